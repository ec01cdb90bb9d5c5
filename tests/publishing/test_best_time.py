"""Best time to post: engagement rate by weekday and hour from the posted history, smoothed so one lucky post does
not win; in the dashboard as a heat map and slot offers, and in the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from campaigns.models import PostingSlot
from publishing.best_time import heat_map
from publishing.models import Post, PostStatus
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def posted(world, at: datetime, impressions: int, likes: int, **more) -> Post:
    return Post.objects.create(
        clip=world.approved, x_account=world.account, caption=f"post at {at.isoformat()} {Post.objects.count()}",
        scheduled_at=at, posted_at=at, status=PostStatus.POSTED, x_post_id=str(10**18 + Post.objects.count()),
        metrics={"impression_count": impressions, "like_count": likes, "reply_count": more.get("replies", 0),
                 "retweet_count": 0, "quote_count": 0, "bookmark_count": 99})


def steady_history(world) -> None:
    """Tuesdays 18:00 Berlin (17:00 UTC in winter, before the clocks change): ten posts at 6%. Mondays 09:00: ten
    at 2%. One Friday 09:00 post: 5 of 10."""
    tuesday = datetime(2026, 1, 6, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
    monday = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    for week in range(10):
        posted(world, tuesday + timedelta(weeks=week), 1000, 50, replies=10)
        posted(world, monday + timedelta(weeks=week), 1000, 20)
    posted(world, datetime(2026, 1, 9, 8, 0, tzinfo=UTC), 10, 5)


def test_the_heat_map_counts_in_the_chosen_time_zone_and_smooths_lucky_hours(mine):
    steady_history(mine)
    grid = heat_map(mine.account, "Europe/Berlin")
    tuesday_six = grid.cells[1][18]
    assert (tuesday_six.posts, tuesday_six.impressions, tuesday_six.engagements) == (10, 10_000, 600)
    assert tuesday_six.rate == pytest.approx(0.06)
    lucky = grid.cells[4][9]
    assert lucky.posts == 1 and lucky.rate == 0.5
    assert [c.label for c in grid.best(2)] == ["Tuesday 18:00", "Friday 09:00"], "ten good posts beat one lucky"
    assert grid.cells[1][17].posts == 0 and grid.cells[1][17].smoothed == pytest.approx(grid.overall)
    assert heat_map(mine.account, "UTC").cells[1][17].posts == 10, "the same posts, read in UTC"


def test_a_post_in_the_spring_forward_hour_lands_on_the_local_hour_that_exists(mine):
    posted(mine, datetime(2026, 3, 29, 1, 30, tzinfo=UTC), 100, 5)  # 03:30 CEST: 02:xx does not exist that night
    assert heat_map(mine.account, "Europe/Berlin").cells[6][3].posts == 1


def test_the_campaign_page_offers_the_best_hours_as_slots_and_one_click_adds_it(editor, viewer, mine):
    steady_history(mine)
    mine.campaign.timezone = "Europe/Berlin"
    mine.campaign.save()
    page = editor.get(reverse("dashboard:campaign", args=[mine.campaign.pk])).content.decode()
    assert 'data-best-slot="1-18"' in page and "Add Tuesday 18:00" in page
    as_viewer = viewer.get(reverse("dashboard:campaign", args=[mine.campaign.pk])).content.decode()
    assert 'id="best-hours-offer"' not in as_viewer

    editor.post(reverse("dashboard:slot_add", args=[mine.campaign.pk]), {"weekday": 1, "local_time": "18:00"})
    slot = PostingSlot.objects.get(campaign=mine.campaign)
    assert (slot.weekday, slot.local_time.hour) == (1, 18)
    page = editor.get(reverse("dashboard:campaign", args=[mine.campaign.pk])).content.decode()
    assert 'data-best-slot="1-18"' not in page, "an hour that is already a slot is not offered again"


def test_the_heat_map_page_for_members_and_a_clear_400_for_a_bad_time_zone(viewer, owner, mine, theirs):
    steady_history(mine)
    url = reverse("dashboard:account_best_times", args=[mine.account.pk])
    page = viewer.get(url + "?tz=Europe/Berlin")
    body = page.content.decode()
    assert page.status_code == 200 and 'id="heat-map"' in body
    assert 'data-weekday="1" data-hour="18" data-posts="10"' in body
    bad = viewer.get(url + "?tz=Mars/Olympus_Mons")
    assert bad.status_code == 400 and 'id="tz-problem"' in bad.content.decode()
    assert owner.get(reverse("dashboard:account_best_times", args=[theirs.account.pk])).status_code == 404
    empty = owner.get(reverse("dashboard:account_best_times", args=[mine.account.pk]) + "?tz=UTC")
    assert empty.status_code == 200


def test_the_api_gives_cells_and_best_hours_to_members_only(mine, theirs):
    steady_history(mine)
    api = APIClient()
    api.force_authenticate(MembershipFactory(workspace=mine.workspace, role=Role.VIEWER).user)
    body = api.get(f"/api/best-times/{mine.account.pk}/?tz=Europe/Berlin").json()
    assert body["timezone"] == "Europe/Berlin" and body["posts"] == 21 and len(body["cells"]) == 168
    assert (body["best"][0]["weekday"], body["best"][0]["hour"]) == (1, 18)
    bad = api.get(f"/api/best-times/{mine.account.pk}/?tz=Nowhere/Land")
    assert bad.status_code == 400 and "tz" in bad.json()
    assert api.get(f"/api/best-times/{theirs.account.pk}/").status_code == 404
