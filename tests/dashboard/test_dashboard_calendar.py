"""Calendar week and month views: posts on their local day, in the campaign's or the workspace's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from dashboard.calendar_grid import frame
from generation.models import Clip, ReviewStatus
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


FUTURE_WEEK = "2199-06-10"  # a Monday-to-Sunday week entirely in the future, with nothing in it


def _schedule_links(body: str) -> int:
    return body.count('class="cal-add small"')


def test_an_empty_week_invites_an_editor_to_schedule_a_post_on_each_day(editor, mine):
    Post.objects.filter(pk=mine.post.pk).update(status=PostStatus.CANCELLED)  # the approved clip is free again
    url = reverse("dashboard:calendar") + f"?view=week&date={FUTURE_WEEK}&campaign={mine.campaign.pk}"
    body = editor.get(url).content.decode()
    assert 'id="calendar-empty"' in body and "Nothing planned this week" in body
    assert "1 clip is ready and not scheduled yet" in body
    clips_url = reverse("dashboard:clips") + f"?status=succeeded&amp;campaign={mine.campaign.pk}"
    assert f'href="{clips_url}" id="calendar-schedule">Schedule a post</a>' in body
    assert f'href="{reverse("dashboard:generate", args=[mine.campaign.pk])}" id="calendar-generate"' in body
    assert _schedule_links(body) == 7 and body.count(f'href="{clips_url}">Schedule a post') == 7
    # The link opens the schedule flow: the gallery it lands on offers the ready clip's Schedule button.
    gallery = editor.get(clips_url.replace("&amp;", "&")).content.decode()
    assert f'id="schedule-clip-{mine.approved.pk}"' in gallery


def test_days_with_a_post_and_past_days_get_no_schedule_link(editor, mine):
    Post.objects.filter(pk=mine.post.pk).update(scheduled_at=datetime(2199, 6, 12, 12, tzinfo=UTC))
    body = editor.get(reverse("dashboard:calendar") + f"?view=week&date={FUTURE_WEEK}").content.decode()
    assert 'id="calendar-empty"' not in body
    assert _schedule_links(body) == 6
    past = editor.get(reverse("dashboard:calendar") + "?view=week&date=2020-01-08").content.decode()
    assert "Nothing planned this week" in past and _schedule_links(past) == 0


@pytest.mark.parametrize("why", ["already scheduled", "rejected"])
def test_with_no_clip_ready_the_empty_week_points_to_generating_clips(editor, mine, why):
    # The world's only approved clip has a post scheduled (outside this week); or it is rejected.
    if why == "rejected":
        Post.objects.filter(pk=mine.post.pk).update(status=PostStatus.CANCELLED)
        Clip.objects.filter(pk=mine.approved.pk).update(review_status=ReviewStatus.REJECTED)
    url = reverse("dashboard:calendar") + f"?view=week&date={FUTURE_WEEK}&campaign={mine.campaign.pk}"
    body = editor.get(url).content.decode()
    assert "No clip is ready to post" in body and "Schedule a post" not in body
    generate = reverse("dashboard:generate", args=[mine.campaign.pk])
    assert body.count(f'href="{generate}"') == 8  # the call to action and one per day


def test_a_viewer_sees_the_empty_week_without_links_it_cannot_use(viewer, mine):
    body = viewer.get(reverse("dashboard:calendar") + f"?view=week&date={FUTURE_WEEK}").content.decode()
    assert "Nothing planned this week" in body
    assert "Schedule a post" not in body and "Generate clips" not in body
