"""Calendar week and month views: posts on their local day, in the campaign's or the workspace's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from dashboard.calendar_grid import frame
from publishing.models import Post, PostStatus

pytestmark = pytest.mark.django_db


def test_week_frames_start_on_monday_and_months_cover_whole_weeks():
    week = frame("week", date(2026, 3, 5), "UTC", today=date(2026, 3, 5))
    assert (week.first, week.last) == (date(2026, 3, 2), date(2026, 3, 8))
    assert [d.is_today for d in week.days].index(True) == 3
    month = frame("month", date(2026, 2, 14), "UTC", today=date(2026, 1, 1))
    assert (month.first, month.last) == (date(2026, 1, 26), date(2026, 3, 1))
    assert len(month.weeks) == 5 and not month.days[0].in_range
    assert (month.previous, month.next) == (date(2026, 1, 1), date(2026, 3, 1))


def test_a_post_late_in_the_evening_in_new_york_shows_on_its_local_day(viewer, mine):
    # 02:30 UTC on 11 March is 22:30 on 10 March in New York (EDT started on 8 March 2026).
    Post.objects.filter(pk=mine.post.pk).update(scheduled_at=datetime(2026, 3, 11, 2, 30, tzinfo=UTC))
    url = reverse("dashboard:calendar") + f"?view=week&date=2026-03-10&campaign={mine.campaign.pk}"
    response = viewer.get(url)
    days = {d.day: d for d in response.context["calendar"].days}
    assert [e.post.pk for e in days[date(2026, 3, 10)].entries] == [mine.post.pk]
    body = response.content.decode()
    assert "22:30" in body and "Times in America/New_York" in body
    assert f'href="{reverse("dashboard:post", args=[mine.post.pk])}"' in body
    assert "cal-entry post-scheduled" in body


def test_the_workspace_view_uses_the_workspace_zone_and_posted_time(viewer, mine):
    Post.objects.filter(pk=mine.post.pk).update(
        status=PostStatus.POSTED, scheduled_at=datetime(2026, 3, 11, 2, 30, tzinfo=UTC),
        posted_at=datetime(2026, 3, 11, 2, 31, tzinfo=UTC),
    )
    response = viewer.get(reverse("dashboard:calendar") + "?view=month&date=2026-03-01")
    days = {d.day: d for d in response.context["calendar"].days}
    # Berlin (the workspace's zone) is UTC+1 then: 03:31 on 11 March.
    assert [e.post.pk for e in days[date(2026, 3, 11)].entries] == [mine.post.pk]
    assert "03:31" in response.content.decode() and "cal-entry post-posted" in response.content.decode()


def test_cancelled_posts_and_bad_parameters_are_left_out(viewer, mine):
    Post.objects.filter(pk=mine.post.pk).update(
        status=PostStatus.CANCELLED, scheduled_at=datetime(2026, 3, 11, 12, tzinfo=UTC)
    )
    response = viewer.get(reverse("dashboard:calendar") + "?view=month&date=2026-03-01")
    assert all(not d.entries for d in response.context["calendar"].days)
    assert viewer.get(reverse("dashboard:calendar") + "?view=year&date=yesterday").status_code == 200
