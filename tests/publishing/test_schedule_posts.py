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
