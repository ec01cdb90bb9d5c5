from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.models import PostingSlot
from generation.models import Clip, ClipStatus, ReviewStatus
from publishing import services
from publishing.models import Post, PostStatus, XAccount
from tests.factories import CaptionTemplateFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip():
    template = PromptTemplateFactory()
    CaptionTemplateFactory(campaign=template.campaign, body="A {colour} {shape}", hashtags="#demo")
    return Clip.objects.create(
        campaign=template.campaign, prompt_template=template, variables={"colour": "red", "shape": "circle"},
        prompt="a red circle", seed=1, status=ClipStatus.SUCCEEDED, review_status=ReviewStatus.APPROVED,
    )


@pytest.fixture
def account(clip):
    return XAccount.objects.create(workspace=clip.campaign.workspace, handle="brand")


def test_schedule_uses_the_caption_template_by_default(clip, account):
    post = services.schedule_post(clip, account, None, timezone.now() + timedelta(hours=1))
    assert post.caption == "A red circle #demo"
    assert post.status == PostStatus.SCHEDULED


def test_unapproved_clips_cannot_be_scheduled_when_approval_is_required(clip, account):
    Clip.objects.filter(pk=clip.pk).update(review_status=ReviewStatus.PENDING)
    clip.refresh_from_db()
    with pytest.raises(ValidationError, match="requires approval"):
        services.schedule_post(clip, account, "hi", timezone.now() + timedelta(hours=1))


def test_a_caption_over_the_limit_is_refused_before_anything_is_stored(clip, account):
    with pytest.raises(ValidationError, match="300/280"):
        services.schedule_post(clip, account, "x" * 300, timezone.now() + timedelta(hours=1))
    assert Post.objects.count() == 0


def test_times_in_the_past_are_refused(clip, account):
    with pytest.raises(ValidationError, match="in the past"):
        services.schedule_post(clip, account, "hi", timezone.now() - timedelta(hours=1))


def test_local_schedule_uses_the_campaign_time_zone(clip, account):
    clip.campaign.timezone = "America/New_York"
    clip.campaign.save()
    post = services.schedule_post_local(clip, account, "hi", datetime(2027, 3, 14, 2, 30))  # in the DST gap
    assert post.scheduled_at == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)


def test_add_to_queue_takes_the_next_free_slot(clip, account):
    clip.campaign.timezone = "Europe/Berlin"
    clip.campaign.save()
    PostingSlot.objects.create(campaign=clip.campaign, weekday=2, local_time=time(9, 0))  # Wednesdays 09:00
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    first = services.add_to_queue(clip, account, "one", now=now)
    second = services.add_to_queue(clip, account, "two", now=now)
    assert first.scheduled_at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert second.scheduled_at == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_only_scheduled_posts_can_be_cancelled_or_moved(clip, account):
    post = services.schedule_post(clip, account, "hi", timezone.now() + timedelta(hours=1))
    assert services.reschedule_post(post, timezone.now() + timedelta(hours=2), caption="new text")
    post.refresh_from_db()
    assert post.caption == "new text"
    Post.objects.filter(pk=post.pk).update(status=PostStatus.POSTING)
    assert not services.cancel_post(post)
    Post.objects.filter(pk=post.pk).update(status=PostStatus.SCHEDULED)
    assert services.cancel_post(post)
    post.refresh_from_db()
    assert post.status == PostStatus.CANCELLED


def test_a_caption_the_account_posted_or_has_scheduled_is_warned_about_not_refused(clip, account):
    other_clip = Clip.objects.create(campaign=clip.campaign, prompt="a blue square", seed=2,
                                     status=ClipStatus.SUCCEEDED, review_status=ReviewStatus.APPROVED)
    posted = services.schedule_post(clip, account, "Summer sale", timezone.now() + timedelta(hours=1))
    Post.objects.filter(pk=posted.pk).update(status=PostStatus.POSTED, posted_at=timezone.now())
    fresh = services.schedule_post(clip, account, "Something new", timezone.now() + timedelta(hours=2))
    assert services.caption_warnings(fresh) == []

    again = services.schedule_post(other_clip, account, "Summer sale", timezone.now() + timedelta(hours=3))
    [warning] = services.caption_warnings(again)
    assert f"@brand already posted this exact caption (post {posted.pk}" in warning
    assert "X refuses the same text twice on one account: change the caption" in warning
    later = services.schedule_post(other_clip, account, "Something new", timezone.now() + timedelta(hours=4))
    [warning] = services.caption_warnings(later)
    assert f"already has this exact caption scheduled (post {fresh.pk}" in warning
    # Another account, or a cancelled post, is no reason to worry.
    elsewhere = XAccount.objects.create(workspace=clip.campaign.workspace, handle="other")
    assert services.caption_warnings(
        services.schedule_post(other_clip, elsewhere, "Summer sale", timezone.now() + timedelta(hours=5))) == []
    services.cancel_post(fresh)
    assert services.caption_warnings(later) == []


def test_the_api_answers_a_repeated_caption_with_a_warning_and_the_post(clip, account):
    from rest_framework.test import APIClient

    from tests.factories import MembershipFactory

    services.schedule_post(clip, account, "Summer sale", timezone.now() + timedelta(hours=1))
    api = APIClient()
    api.force_authenticate(MembershipFactory(workspace=clip.campaign.workspace, role="editor").user)
    when = (timezone.now() + timedelta(hours=2)).isoformat()

    answer = api.post("/api/posts/", {"clip": clip.pk, "x_account": account.pk, "caption": "Summer sale",
                                      "scheduled_at": when}, format="json")
    other = api.post("/api/posts/", {"clip": clip.pk, "x_account": account.pk, "caption": "Winter sale",
                                     "scheduled_at": when}, format="json")
    moved = api.patch(f"/api/posts/{other.json()['id']}/", {"scheduled_at": when, "caption": "Summer sale"},
                      format="json")

    assert answer.status_code == 201 and answer.json()["status"] == "scheduled"
    [warning] = answer.json()["warnings"]
    assert "already has this exact caption scheduled" in warning
    assert other.status_code == 201 and other.json()["warnings"] == []
    assert moved.status_code == 200 and len(moved.json()["warnings"]) == 1
