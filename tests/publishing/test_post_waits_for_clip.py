"""A post may be scheduled for a clip still queued or rendering; at its time it waits for the clip (rendered, and
approved where the campaign requires it) up to POST_CLIP_GRACE, then fails with the reason: never posts without it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Role
from generation.models import Clip, ClipStatus, ReviewStatus
from publishing import publisher, services
from publishing.dispatch import claim_due_posts
from publishing.models import Post, PostStatus, XAccount
from tests.factories import MembershipFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db

GRACE = 600


@pytest.fixture(autouse=True)
def _grace(settings):
    settings.POST_CLIP_GRACE = GRACE


@pytest.fixture
def account():
    template = PromptTemplateFactory(campaign__approval_required=True)
    MembershipFactory(workspace=template.campaign.workspace, role=Role.OWNER)
    account = XAccount.objects.create(workspace=template.campaign.workspace, handle="brand",
                                      min_post_gap=timedelta(0), max_lateness=timedelta(hours=6))
    account.template = template
    return account


def clip_of(account, status=ClipStatus.RENDERING, review=ReviewStatus.PENDING) -> Clip:
    return Clip.objects.create(campaign=account.template.campaign, prompt="a red circle", seed=Clip.objects.count(),
                               status=status, review_status=review)


def due_post(account, clip, minutes_ago: float) -> Post:
    return Post.objects.create(clip=clip, x_account=account, caption=f"clip {clip.pk}",
                               scheduled_at=timezone.now() - timedelta(minutes=minutes_ago))


@pytest.mark.parametrize("status", [ClipStatus.QUEUED, ClipStatus.RENDERING])
def test_a_clip_still_queued_or_rendering_can_be_scheduled(account, status):
    clip = clip_of(account, status=status)
    post = services.schedule_post(clip, account, None, timezone.now() + timedelta(hours=1))
    assert post.status == PostStatus.SCHEDULED and post.caption == "a red circle"


@pytest.mark.parametrize("status", [ClipStatus.FAILED, ClipStatus.CANCELLED])
def test_a_clip_that_will_never_render_cannot_be_scheduled(account, status):
    with pytest.raises(ValidationError, match="rendered successfully, or is still queued or rendering"):
        services.schedule_post(clip_of(account, status=status), account, None, timezone.now() + timedelta(hours=1))


def test_a_rendered_clip_still_needs_approval_before_scheduling_where_the_campaign_requires_it(account):
    with pytest.raises(ValidationError, match="approve the clip before scheduling it"):
        services.schedule_post(clip_of(account, status=ClipStatus.SUCCEEDED), account, None,
                               timezone.now() + timedelta(hours=1))


def test_a_due_post_waits_for_its_rendering_clip_then_goes_once_it_is_rendered_and_approved(account):
    clip = clip_of(account)
    post = due_post(account, clip, minutes_ago=1)
    result = claim_due_posts()
    assert result.claimed == [] and result.waiting_for_clip == 1
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED and not post.last_error

    Clip.objects.filter(pk=clip.pk).update(status=ClipStatus.SUCCEEDED)
    assert claim_due_posts().claimed == [], "rendered but not approved: the campaign requires approval"
    Clip.objects.filter(pk=clip.pk).update(review_status=ReviewStatus.APPROVED)
    assert claim_due_posts().claimed == [post.pk]


def test_a_post_whose_clip_is_not_ready_after_the_grace_period_fails_with_the_reason(account):
    post = due_post(account, clip_of(account), minutes_ago=GRACE / 60 + 1)
    result = claim_due_posts()
    assert result.clip_not_ready == [post.pk] and result.claimed == []
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED
    assert post.last_error == ("Not posted after waiting 11 min for it (POST_CLIP_GRACE): Its clip is still rendering. "
                               "Reschedule the post once its clip is ready.")
    assert len(mail.outbox) == 1 and "failed" in mail.outbox[0].subject


def test_a_post_whose_clip_can_never_be_ready_fails_at_once(account):
    failed = due_post(account, clip_of(account, status=ClipStatus.FAILED), minutes_ago=0.5)
    rejected = due_post(account, clip_of(account, status=ClipStatus.SUCCEEDED, review=ReviewStatus.REJECTED), 0.5)
    assert sorted(claim_due_posts().clip_not_ready) == sorted([failed.pk, rejected.pk])
    failed.refresh_from_db()
    rejected.refresh_from_db()
    assert "Only a clip that rendered successfully" in failed.last_error
    assert "requires approval and its clip is not approved" in rejected.last_error


def test_other_due_posts_go_out_while_one_waits_for_its_clip(account):
    waiting = due_post(account, clip_of(account), minutes_ago=2)
    ready = due_post(account, clip_of(account, status=ClipStatus.SUCCEEDED, review=ReviewStatus.APPROVED), 1)
    result = claim_due_posts()
    assert result.claimed == [ready.pk] and result.waiting_for_clip == 1
    assert Post.objects.get(pk=waiting.pk).status == PostStatus.SCHEDULED


def test_the_publisher_never_uploads_a_clip_that_stopped_being_postable(account):
    clip = clip_of(account, status=ClipStatus.SUCCEEDED, review=ReviewStatus.APPROVED)
    post = due_post(account, clip, minutes_ago=0)
    assert claim_due_posts().claimed == [post.pk]
    Clip.objects.filter(pk=clip.pk).update(review_status=ReviewStatus.REJECTED)  # re-reviewed in between
    assert publisher.publish(post.pk) == PostStatus.FAILED
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED and not post.media_id
    assert "requires approval and its clip is not approved" in post.last_error


def test_scheduling_a_clip_still_rendering_answers_that_the_post_waits_and_whether_it_will_be_in_time(account,
                                                                                                      settings):
    from rest_framework.test import APIClient

    settings.RENDER_DEFAULT_ESTIMATE_SECONDS = 3600.0
    editor = MembershipFactory(workspace=account.workspace, role=Role.EDITOR).user
    client = APIClient()
    client.force_authenticate(editor)
    clip = clip_of(account, status=ClipStatus.QUEUED)
    soon = (timezone.now() + timedelta(minutes=30)).isoformat()
    response = client.post("/api/posts/", {"clip": clip.pk, "x_account": account.pk, "scheduled_at": soon},
                           format="json")
    assert response.status_code == 201, response.content
    warnings = response.json()["warnings"]
    assert warnings[0].startswith(f"Clip {clip.pk} is still queued: it renders ahead of clips needed later, and the "
                                  "post waits up to 10 min past its time for it")
    assert warnings[1].startswith(f"Clip {clip.pk} is not expected to be ready before its post")
    assert client.get(f"/api/clips/{clip.pk}/").json()["late_for_post"] is True


def test_the_post_page_says_the_post_waits_for_its_clip_and_flags_it_late(account, settings):
    from django.test import Client
    from django.urls import reverse

    settings.RENDER_DEFAULT_ESTIMATE_SECONDS = 3600.0
    viewer = MembershipFactory(workspace=account.workspace, role=Role.VIEWER).user
    client = Client()
    client.force_login(viewer)
    post = due_post(account, clip_of(account, status=ClipStatus.QUEUED), minutes_ago=-30)
    page = client.get(reverse("dashboard:post", args=[post.pk])).content.decode()
    assert "Goes out only once its clip is ready: Its clip is still queued." in page
    assert 'id="post-clip-late"' in page
