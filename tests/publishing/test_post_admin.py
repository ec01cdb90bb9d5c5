"""Post admin actions: publish now, cancel and retry run their services per row and report what they skipped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from generation.models import Clip, ClipStatus, ReviewStatus
from publishing.dispatch import claim_due_posts
from publishing.models import AccountStatus, Post, PostStatus, XAccount
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:publishing_post_changelist"


@pytest.fixture
def make_post(db):
    campaign = CampaignFactory()
    clip = Clip.objects.create(campaign=campaign, prompt="a clip", seed=1, status=ClipStatus.SUCCEEDED,
                               review_status=ReviewStatus.APPROVED)
    account = XAccount.objects.create(workspace=campaign.workspace, handle="brand", min_post_gap=timedelta(0))

    def make(status: str = PostStatus.SCHEDULED, **fields) -> Post:
        fields.setdefault("scheduled_at", timezone.now() + timedelta(days=1))
        return Post.objects.create(clip=clip, x_account=account, caption="hi", status=status, **fields)

    return make


@pytest.fixture
def run_action(client, superuser):
    client.force_login(superuser)

    def run(action: str, posts: list[Post]) -> str:
        response = client.post(reverse(CHANGELIST), {"action": action,
                                                     "_selected_action": [p.pk for p in posts]})
        assert response.status_code == 302
        return " | ".join(str(m) for m in get_messages(response.wsgi_request))

    return run


def test_publish_now_makes_scheduled_posts_due_for_the_dispatcher(run_action, make_post):
    scheduled, posting = make_post(), make_post(PostStatus.POSTING)
    before = timezone.now()

    message = run_action("publish_now", [scheduled, posting])

    scheduled.refresh_from_db()
    assert before <= scheduled.scheduled_at <= timezone.now()
    assert scheduled.status == PostStatus.SCHEDULED
    assert claim_due_posts().claimed == [scheduled.pk]
    assert Post.objects.get(pk=posting.pk).status == PostStatus.POSTING
    assert message.startswith("Made 1 post due now")
    assert "Skipped 1 (1 posting): only a scheduled post can be published now." in message


def test_cancel_cancels_only_posts_that_have_not_started(run_action, make_post):
    scheduled, uploading, posted = make_post(), make_post(PostStatus.UPLOADING), make_post(PostStatus.POSTED)

    message = run_action("cancel", [scheduled, uploading, posted])

    assert Post.objects.get(pk=scheduled.pk).status == PostStatus.CANCELLED
    assert Post.objects.get(pk=uploading.pk).status == PostStatus.UPLOADING
    assert Post.objects.get(pk=posted.pk).status == PostStatus.POSTED
    assert message == ("Cancelled 1 post. Skipped 2 (1 posted, 1 uploading): only a post that has not started "
                       "going out can be cancelled.")


def test_retry_puts_failed_posts_back_due_now_with_fresh_attempts(run_action, make_post):
    failed = make_post(PostStatus.FAILED, attempts=8, last_error="X kept failing",
                       scheduled_at=timezone.now() - timedelta(days=2))
    cancelled = make_post(PostStatus.CANCELLED)

    message = run_action("retry", [failed, cancelled])

    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (PostStatus.SCHEDULED, 0, "")
    assert timezone.now() - failed.scheduled_at < timedelta(minutes=1)
    assert claim_due_posts().claimed == [failed.pk]
    assert Post.objects.get(pk=cancelled.pk).status == PostStatus.CANCELLED
    assert message == ("Put 1 failed post back on the schedule, due now. Skipped 1 (1 cancelled): only a failed "
                       "post can be retried.")


def test_retry_skips_posts_whose_account_needs_reconnecting(run_action, make_post):
    failed = make_post(PostStatus.FAILED, last_error="token revoked")
    XAccount.objects.filter(pk=failed.x_account_id).update(status=AccountStatus.NEEDS_RECONNECT)

    message = run_action("retry", [failed])

    failed.refresh_from_db()
    assert (failed.status, failed.last_error) == (PostStatus.FAILED, "token revoked")
    assert "Skipped 1 (1 blocked: @brand needs attention (Needs reconnect): reconnect it)" in message


def test_the_post_change_form_keeps_status_read_only(client, superuser, make_post):
    post = make_post(PostStatus.FAILED, last_error="media rejected")
    client.force_login(superuser)

    page = client.get(reverse("admin:publishing_post_change", args=[post.pk])).content.decode()

    assert "media rejected" in page
    assert 'name="status"' not in page
