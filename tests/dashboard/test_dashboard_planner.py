"""The planner's dashboard pages (#43) without a browser: each write by each role, another workspace's objects
404, hostile input never a 500, a post created from a free slot, the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ROLE_RANK, Role
from campaigns.models import PostingSlot
from generation.models import ReviewStatus
from publishing.models import Post, PostStatus
from publishing.scheduling import utc_to_local

pytestmark = pytest.mark.django_db


def writes(w) -> list[tuple[str, dict, Role]]:
    """(url, POST data, least role allowed)."""
    return [
        (reverse("dashboard:account_queue_pause", args=[w.account.pk]), {"paused": "1"}, Role.EDITOR),
        (reverse("dashboard:account_queue_post_next", args=[w.account.pk]), {}, Role.EDITOR),
        (reverse("dashboard:post_queue_move", args=[w.post.pk]), {"direction": "down"}, Role.EDITOR),
        (reverse("dashboard:calendar_new") + f"?campaign={w.campaign.pk}", {"campaign": w.campaign.pk}, Role.EDITOR),
        (reverse("dashboard:clip_bulk"), {"clips": [w.pending.pk], "action": "approve"}, Role.REVIEWER),
        (reverse("dashboard:clip_x_preview", args=[w.approved.pk]), {"caption": "hi"}, Role.EDITOR),
    ]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.REVIEWER, Role.EDITOR, Role.OWNER], ids=lambda r: r.value)
def test_each_write_needs_its_role(login_as, mine, role):
    client = login_as(role)
    for url, data, needed in writes(mine):
        response = client.post(url, data)
        expected = (200, 302) if ROLE_RANK[role] >= ROLE_RANK[needed] else (403,)
        assert response.status_code in expected, (role, url, response.status_code)
    if role == Role.VIEWER:
        mine.account.refresh_from_db()
        mine.pending.refresh_from_db()
        assert not mine.account.queue_paused and mine.pending.review_status == ReviewStatus.PENDING


def test_another_workspaces_queue_and_posts_are_not_found(editor, theirs):
    for url in (reverse("dashboard:account_queue", args=[theirs.account.pk]),
                reverse("dashboard:account_queue_pause", args=[theirs.account.pk]),
                reverse("dashboard:account_queue_post_next", args=[theirs.account.pk]),
                reverse("dashboard:post_queue_move", args=[theirs.post.pk]),
                reverse("dashboard:clip_x_preview", args=[theirs.approved.pk])):
        assert editor.post(url, {"direction": "up"}).status_code == 404, url
    theirs.account.refresh_from_db()
    assert not theirs.account.queue_paused


def test_bulk_reports_clips_of_another_workspace_as_not_found_and_leaves_them(reviewer, mine, theirs):
    response = reviewer.post(reverse("dashboard:clip_bulk"),
                             {"clips": [mine.pending.pk, theirs.pending.pk], "action": "approve"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "1 done, 1 skipped" in body and "Not found in this workspace." in body
    theirs.pending.refresh_from_db()
    assert theirs.pending.review_status == ReviewStatus.PENDING


def test_a_reviewers_bulk_queue_skips_every_clip_with_the_reason(reviewer, mine):
    response = reviewer.post(reverse("dashboard:clip_bulk"), {"clips": [mine.approved.pk], "action": "queue",
                                                              "account": mine.account.pk})

    assert "Not permitted" in response.content.decode()
    assert Post.objects.filter(clip=mine.approved).count() == 1  # the world's own post only


@pytest.mark.parametrize("data", [{}, {"clips": ["x"], "action": "approve"}, {"clips": ["1"], "action": "boom"},
                                  {"clips": ["99999999999999"], "action": "approve"},
                                  {"clips": ["1"], "action": "queue"},
                                  {"clips": ["1"], "action": "slots", "account": "x", "starting": "99999-1-1"}])
def test_hostile_bulk_input_is_a_message_not_a_500(editor, mine, data):
    response = editor.post(reverse("dashboard:clip_bulk"), data)

    assert response.status_code == 302


@pytest.mark.parametrize("query", ["at=garbage", "at=2030-01-01T10:00:00", "date=2030-13-40", "campaign=x",
                                   "campaign=99999999999999999999999", "date=2030-01-01&time=25:99"])
def test_hostile_slot_addresses_still_show_the_form(editor, mine, query):
    response = editor.get(reverse("dashboard:calendar_new") + f"?campaign={mine.campaign.pk}&{query}")

    assert response.status_code == 200


def test_a_post_is_created_from_a_free_slot_with_the_chosen_caption_template(editor, mine):
    PostingSlot.objects.create(campaign=mine.campaign, weekday=2, local_time=time(9, 0))
    clip = mine.pending
    clip.review_status = ReviewStatus.APPROVED
    clip.save()
    when = utc_to_local(timezone.now() + timedelta(days=3), mine.campaign.timezone)
    when = when.replace(hour=9, minute=0, second=0, microsecond=0)
    page = editor.get(reverse("dashboard:calendar_new") + f"?campaign={mine.campaign.pk}&at={when.isoformat()}"
                      .replace("+", "%2B"))
    assert f'value="{when:%Y-%m-%dT%H:%M}"' in page.content.decode()

    response = editor.post(reverse("dashboard:calendar_new"), {
        "campaign": mine.campaign.pk, "clip": clip.pk, "caption_template": mine.caption.pk,
        "account": mine.account.pk, "when": f"{when:%Y-%m-%dT%H:%M}"})

    assert response.status_code == 302 and "/calendar/?" in response["Location"]
    post = Post.objects.get(clip=clip)
    assert utc_to_local(post.scheduled_at, mine.campaign.timezone).replace(tzinfo=None) == when.replace(tzinfo=None)
    assert post.caption.startswith("Look at this red circle!")


def test_the_calendar_week_shows_free_slots_to_editors_only_as_links(login_as, mine):
    PostingSlot.objects.create(campaign=mine.campaign, weekday=0, local_time=time(9, 0))
    url = reverse("dashboard:calendar") + f"?campaign={mine.campaign.pk}&date=" + str(
        (timezone.now() + timedelta(days=14)).date())

    editor_page = login_as(Role.EDITOR).get(url).content.decode()
    viewer_page = login_as(Role.VIEWER).get(url).content.decode()

    assert 'class="cal-slot small" href="/calendar/new/?' in editor_page
    assert 'id="calendar-empty-slots">1 posting slot is free below' in editor_page  # an empty week invites
    assert "Free slot" in viewer_page and 'class="cal-slot small" href' not in viewer_page
    assert 'draggable="true"' not in viewer_page


def test_the_queue_page_shows_controls_to_editors_only(login_as, mine):
    url = reverse("dashboard:account_queue", args=[mine.account.pk])

    editor_page = login_as(Role.EDITOR).get(url).content.decode()
    viewer_page = login_as(Role.VIEWER).get(url).content.decode()

    assert f'id="queue-post-{mine.post.pk}"' in editor_page and 'id="queue-pause"' in editor_page
    assert f'id="queue-post-{mine.post.pk}"' in viewer_page and 'id="queue-pause"' not in viewer_page


def test_the_csv_export_holds_only_this_workspaces_posts_and_no_formula(viewer, mine, theirs):
    Post.objects.filter(pk=mine.post.pk).update(caption="+1 for @brand", metrics={"impression_count": 12})

    response = viewer.get(reverse("dashboard:post_export") + f"?status={PostStatus.SCHEDULED}")

    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["post"] for row in rows] == [str(mine.post.pk)]
    assert rows[0]["caption"] == "'+1 for @brand" and rows[0]["impression_count"] == "12"


def test_hostile_ids_in_the_export_and_the_slot_form_are_ignored(editor, mine):
    huge = "9" * 30

    export = editor.get(reverse("dashboard:post_export") + f"?campaign={huge}")
    slot = editor.post(reverse("dashboard:calendar_new"), {"campaign": huge})
    preview = editor.post(reverse("dashboard:clip_x_preview", args=[mine.approved.pk]), {"account": huge})

    assert (export.status_code, slot.status_code, preview.status_code) == (200, 200, 200)


def test_post_now_on_a_paused_queue_says_it_waits_for_the_resume(editor, mine):
    mine.account.queue_paused = True
    mine.account.save()

    response = editor.post(reverse("dashboard:post_publish_now", args=[mine.post.pk]), follow=True)

    assert "queue is paused: it goes out when you resume the queue" in response.content.decode()
