"""Scheduling in the campaign's time zone, add to queue, reschedule, cancel; the posts list and a post's page."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import PostingSlot
from publishing.models import AccountStatus, Post, PostStatus

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")  # the campaign factory's time zone


def local_in_two_days(hour: int = 14, minute: int = 30) -> datetime:
    day = (timezone.now().astimezone(NEW_YORK) + timedelta(days=2)).date()
    return datetime.combine(day, time(hour, minute))


def test_the_schedule_page_starts_from_the_default_caption_with_its_counter(editor, mine):
    body = editor.get(reverse("dashboard:schedule", args=[mine.approved.pk])).content.decode()
    assert "Look at this red circle! #clipcast #ai" in body
    assert "38/280" in body and "America/New_York" in body
    assert 'id="schedule-submit"' in body and ">Add to queue</button>" in body


def test_scheduling_at_a_local_time_stores_the_utc_instant(editor, mine):
    local = local_in_two_days()
    response = editor.post(
        reverse("dashboard:schedule", args=[mine.approved.pk]),
        {
            "account": mine.account.pk, "caption": "Hello", "when": local.strftime("%Y-%m-%dT%H:%M"),
            "action": "schedule",
        },
    )
    post = Post.objects.exclude(pk=mine.post.pk).get(clip=mine.approved)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:post", args=[post.pk])
    assert post.scheduled_at == local.replace(tzinfo=NEW_YORK).astimezone(UTC)
    assert post.caption == "Hello" and post.status == PostStatus.SCHEDULED


def test_scheduling_a_caption_the_account_has_scheduled_shows_a_warning(editor, mine):
    response = editor.post(
        reverse("dashboard:schedule", args=[mine.approved.pk]),
        {"account": mine.account.pk, "caption": mine.post.caption,
         "when": local_in_two_days().strftime("%Y-%m-%dT%H:%M"), "action": "schedule"},
        follow=True,
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Scheduled on" in body
    assert f"already has this exact caption scheduled (post {mine.post.pk}" in body
    assert "X refuses the same text twice on one account" in body


def test_add_to_queue_takes_the_next_free_slot(editor, mine):
    PostingSlot.objects.create(campaign=mine.campaign, weekday=2, local_time=time(9, 0))
    response = editor.post(
        reverse("dashboard:schedule", args=[mine.approved.pk]),
        {"account": mine.account.pk, "caption": "Queued one", "when": "", "action": "queue"},
    )
    assert response.status_code == 302
    post = Post.objects.get(caption="Queued one")
    local = post.scheduled_at.astimezone(NEW_YORK)
    assert (local.weekday(), local.time()) == (2, time(9, 0))


def test_queue_without_slots_and_unapproved_clips_are_explained(editor, mine):
    url = reverse("dashboard:schedule", args=[mine.approved.pk])
    response = editor.post(url, {"account": mine.account.pk, "caption": "x", "action": "queue"})
    assert "This campaign has no posting slots" in response.content.decode()
    response = editor.get(reverse("dashboard:schedule", args=[mine.pending.pk]))
    assert "approve the clip before scheduling it" in response.content.decode()
    response = editor.post(
        reverse("dashboard:schedule", args=[mine.pending.pk]),
        {"account": mine.account.pk, "caption": "x", "when": local_in_two_days().isoformat(), "action": "schedule"},
    )
    assert response.status_code == 200 and not Post.objects.filter(clip=mine.pending).exists()


def test_a_caption_over_280_or_a_past_time_is_a_form_error(editor, mine):
    url = reverse("dashboard:schedule", args=[mine.approved.pk])
    when = local_in_two_days().strftime("%Y-%m-%dT%H:%M")
    response = editor.post(url, {"account": mine.account.pk, "caption": "x" * 281, "when": when, "action": "schedule"})
    body = response.content.decode()
    assert "Caption is 281/280 weighted characters" in body and 'class="counter over"' in body
    response = editor.post(url, {"account": mine.account.pk, "caption": "ok", "when": "2001-01-01T10:00"})
    assert "That time is in the past" in response.content.decode()
    response = editor.post(url, {"account": mine.account.pk, "caption": "ok", "when": "", "action": "schedule"})
    assert "Pick a date and time" in response.content.decode()


def test_accounts_needing_reconnect_are_not_offered(editor, mine):
    mine.account.status = AccountStatus.NEEDS_RECONNECT
    mine.account.save()
    body = editor.get(reverse("dashboard:schedule", args=[mine.approved.pk])).content.decode()
    assert "no active X account" in body


def test_a_scheduled_post_is_rescheduled_in_local_time_or_cancelled(editor, mine):
    local = local_in_two_days(8, 15)
    response = editor.post(
        reverse("dashboard:post_reschedule", args=[mine.post.pk]),
        {"when": local.strftime("%Y-%m-%dT%H:%M"), "caption": "New words"},
    )
    assert response.status_code == 302
    mine.post.refresh_from_db()
    assert mine.post.scheduled_at == local.replace(tzinfo=NEW_YORK).astimezone(UTC)
    assert mine.post.caption == "New words"
    editor.post(reverse("dashboard:post_cancel", args=[mine.post.pk]))
    mine.post.refresh_from_db()
    assert mine.post.status == PostStatus.CANCELLED
    response = editor.post(reverse("dashboard:post_cancel", args=[mine.post.pk]), follow=True)
    assert "cannot be cancelled" in response.content.decode()


def test_a_post_that_went_out_can_no_longer_be_changed(editor, mine):
    Post.objects.filter(pk=mine.post.pk).update(status=PostStatus.POSTING)
    body = editor.get(reverse("dashboard:post", args=[mine.post.pk])).content.decode()
    assert 'id="reschedule-form"' not in body and 'id="cancel-post"' not in body
    response = editor.post(
        reverse("dashboard:post_reschedule", args=[mine.post.pk]),
        {"when": local_in_two_days().strftime("%Y-%m-%dT%H:%M"), "caption": "Late"}, follow=True,
    )
    assert "can no longer be changed" in response.content.decode()


def test_the_posts_list_shows_failure_reasons_links_and_metrics(viewer, mine):
    Post.objects.filter(pk=mine.post.pk).update(
        status=PostStatus.POSTED, x_post_url="https://x.com/brand/status/123", posted_at=timezone.now(),
        metrics={"impression_count": 1234, "like_count": 56, "retweet_count": 7, "reply_count": 8},
    )
    broken = Post.objects.create(
        clip=mine.approved, x_account=mine.account, caption="broken", scheduled_at=timezone.now(),
        status=PostStatus.FAILED, last_error="X refused the video: it is longer than 140 s.",
        x_post_url="javascript:alert(1)", failed_in=PostStatus.POSTING,
    )
    body = viewer.get(reverse("dashboard:posts")).content.decode()
    assert 'href="https://x.com/brand/status/123"' in body
    assert "X refused the video: it is longer than 140 s." in body
    assert ">1234<" in body and ">56<" in body
    assert "javascript:" not in body
    detail = viewer.get(reverse("dashboard:post", args=[mine.post.pk])).content.decode()
    assert 'id="post-link"' in detail and "<strong>1234</strong> impressions" in detail
    failed = viewer.get(reverse("dashboard:post", args=[broken.pk])).content.decode()
    assert "<dt>Failed while</dt><dd>posting: X may have it already" in failed


def test_the_posts_list_filters_and_stays_constant_in_queries(viewer, mine, django_assert_max_num_queries):
    viewer.get(reverse("dashboard:posts"))
    for i in range(15):
        Post.objects.create(
            clip=mine.approved, x_account=mine.account, caption=f"p{i}",
            scheduled_at=timezone.now() + timedelta(hours=i),
        )
    with django_assert_max_num_queries(8):
        response = viewer.get(reverse("dashboard:posts") + "?status=scheduled")
    assert len(response.context["posts"]) == 16


def test_the_post_page_polls_its_status_until_the_post_is_final(viewer, mine):
    body = viewer.get(reverse("dashboard:post", args=[mine.post.pk])).content.decode()
    assert f'hx-get="{reverse("dashboard:post_status", args=[mine.post.pk])}"' in body and "goes out in" in body
    status_url = reverse("dashboard:post_status", args=[mine.post.pk])
    Post.objects.filter(pk=mine.post.pk).update(status=PostStatus.POSTING)
    response = viewer.get(status_url)
    assert response.status_code == 200 and "on its way to X" in response.content.decode()
    Post.objects.filter(pk=mine.post.pk).update(status=PostStatus.POSTED, x_post_url="http://127.0.0.1:9/s/1")
    response = viewer.get(status_url)
    body = response.content.decode()
    assert response.status_code == 286 and 'id="post-link"' in body and "hx-trigger" not in body
    Post.objects.filter(pk=mine.post.pk).update(status=PostStatus.FAILED, last_error="X said the media is invalid.")
    assert "X said the media is invalid." in viewer.get(status_url).content.decode()
