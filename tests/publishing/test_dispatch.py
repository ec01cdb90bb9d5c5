from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from generation.models import Clip, ClipStatus, ReviewStatus
from publishing.dispatch import claim_due_posts
from publishing.models import Post, PostStatus, XAccount
from tests.factories import PromptTemplateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    template = PromptTemplateFactory()
    account = XAccount.objects.create(workspace=template.campaign.workspace, handle="brand",
                                      min_post_gap=timedelta(minutes=5), max_lateness=timedelta(hours=3))
    account.clip = Clip.objects.create(campaign=template.campaign, prompt="p", seed=1, status=ClipStatus.SUCCEEDED,
                                       review_status=ReviewStatus.APPROVED)
    return account


def make_post(account, at, caption="hi") -> Post:
    return Post.objects.create(clip=account.clip, x_account=account, caption=caption, scheduled_at=at)


def test_only_due_scheduled_posts_are_claimed(account):
    now = timezone.now()
    due = make_post(account, now - timedelta(seconds=5))
    make_post(account, now + timedelta(minutes=1))
    cancelled = make_post(account, now - timedelta(seconds=5))
    Post.objects.filter(pk=cancelled.pk).update(status=PostStatus.CANCELLED)
    assert claim_due_posts(now).claimed == [due.pk]
    assert Post.objects.get(pk=due.pk).status == PostStatus.UPLOADING
    assert claim_due_posts(now).claimed == []  # already claimed: never twice


def test_overdue_posts_of_one_account_are_spaced_by_the_minimum_gap(account):
    now = timezone.now()
    posts = [make_post(account, now - timedelta(minutes=m)) for m in (50, 40, 30)]
    assert claim_due_posts(now).claimed == [posts[0].pk]
    assert claim_due_posts(now + timedelta(minutes=2)).claimed == []
    assert claim_due_posts(now + timedelta(minutes=5)).claimed == [posts[1].pk]


def test_posts_later_than_the_maximum_lateness_are_skipped_with_a_reason(account):
    now = timezone.now()
    late = make_post(account, now - timedelta(hours=4))
    result = claim_due_posts(now)
    assert result.skipped == [late.pk]
    late.refresh_from_db()
    assert late.status == PostStatus.FAILED
    assert "maximum lateness of 3 h 00 min" in late.last_error
