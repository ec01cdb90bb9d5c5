"""Metrics read back from the X sandbox for posted posts, then rolled up per campaign and prompt template."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from generation.models import Clip, ClipStatus
from publishing.metrics import METRIC_KEYS, campaign_rollup
from publishing.metrics_refresh import refresh_recent
from publishing.models import AuthKind, Post, PostStatus, XAccount
from tests.factories import PromptTemplateFactory

pytestmark = pytest.mark.django_db

CONSUMER = {"consumer_key": "clipcast-metrics-consumer", "consumer_secret": "clipcast-metrics-consumer-secret"}


@pytest.fixture
def x_settings(sandbox, settings):
    settings.X_API_BASE_URL = settings.X_UPLOAD_BASE_URL = settings.X_WEB_BASE_URL = sandbox.url
    settings.X_CONSUMER_KEY, settings.X_CONSUMER_SECRET = CONSUMER["consumer_key"], CONSUMER["consumer_secret"]
    sandbox.configure(processing_secs=0)


def connect(sandbox, workspace) -> tuple[dict, XAccount]:
    creds = sandbox.create_account(**CONSUMER)
    account = XAccount.objects.create(
        workspace=workspace, handle=creds["username"], x_user_id=creds["user_id"], auth_kind=AuthKind.OAUTH1,
        access_token=creds["access_token"], access_token_secret=creds["access_token_secret"])
    return creds, account


def publish_on_x(sandbox, creds, video, text: str, age: timedelta) -> tuple[str, float]:
    """Post through the sandbox API, then make the post `age` old there (metrics grow with a post's age)."""
    with sandbox.client(creds) as client:
        media = client.upload_video(video, min_poll_secs=0.05)
        post = client.create_post(text, media_ids=[media.media_id])
    created = time.time() - age.total_seconds()
    with sandbox.server.sandbox.store.tx() as db:
        db.execute("UPDATE posts SET created_at = ? WHERE id = ?", (created, post.id))
    return post.id, created


def posted(clip, account, x_post_id: str, posted_ago: timedelta, text: str) -> Post:
    return Post.objects.create(clip=clip, x_account=account, caption=text, status=PostStatus.POSTED,
                               x_post_id=x_post_id, scheduled_at=timezone.now() - posted_ago,
                               posted_at=timezone.now() - posted_ago)


def expected_impressions(x_post_id: str, created: float, at: float) -> int:
    # The sandbox's deterministic formula: 3 impressions a second of age, plus a per-post offset.
    return int((at - created) * 3) + int(x_post_id) % 97


def test_refresh_stores_public_metrics_of_recent_posts_and_the_campaign_rolls_them_up(sandbox, x_settings,
                                                                                     make_video):
    template = PromptTemplateFactory(name="Moving shapes")
    campaign = template.campaign
    clip = Clip.objects.create(campaign=campaign, prompt_template=template, prompt="a red circle", seed=1,
                               status=ClipStatus.SUCCEEDED)
    creds, account = connect(sandbox, campaign.workspace)
    video = make_video(1.0)
    on_x = [publish_on_x(sandbox, creds, video, f"Metrics post {i}", timedelta(days=2 + i)) for i in range(2)]
    recent = [posted(clip, account, x_id, timedelta(days=2 + i), f"Metrics post {i}")
              for i, (x_id, _) in enumerate(on_x)]
    old_id, _ = publish_on_x(sandbox, creds, video, "An old post", timedelta(days=8))
    old = posted(clip, account, old_id, timedelta(days=8), "An old post")
    scheduled = Post.objects.create(clip=clip, x_account=account, caption="Not out yet",
                                    scheduled_at=timezone.now() + timedelta(hours=1))

    before = time.time()
    assert refresh_recent() == 2
    after = time.time()

    for post, (x_id, created) in zip(recent, on_x, strict=True):
        post.refresh_from_db()
        impressions = post.metrics["impression_count"]
        assert expected_impressions(x_id, created, before) <= impressions <= expected_impressions(x_id, created, after)
        assert post.metrics == {
            "impression_count": impressions, "like_count": impressions // 25, "reply_count": impressions // 300,
            "retweet_count": impressions // 200, "quote_count": impressions // 1000,
            "bookmark_count": impressions // 150,
        }
        assert post.metrics["like_count"] > 0 and post.metrics_at is not None
    old.refresh_from_db()
    scheduled.refresh_from_db()
    assert old.metrics == {} and old.metrics_at is None, "posts older than 7 days are not refreshed"
    assert scheduled.metrics == {}

    rollup = campaign_rollup(campaign)
    assert rollup["posts"] == 3
    for key in METRIC_KEYS:
        assert rollup["totals"][key] == sum(p.metrics[key] for p in recent)
    assert rollup["by_template"]["Moving shapes"] == rollup["totals"]
    assert sum(day["like_count"] for day in rollup["by_day"].values()) == rollup["totals"]["like_count"]


def test_an_account_whose_token_was_revoked_does_not_stop_the_others(sandbox, x_settings, make_video):
    template = PromptTemplateFactory()
    clip = Clip.objects.create(campaign=template.campaign, prompt_template=template, prompt="p", seed=1,
                               status=ClipStatus.SUCCEEDED)
    good_creds, good = connect(sandbox, template.campaign.workspace)
    bad_creds, bad = connect(sandbox, template.campaign.workspace)
    video = make_video(1.0)
    good_post = posted(clip, good, publish_on_x(sandbox, good_creds, video, "good", timedelta(hours=3))[0],
                       timedelta(hours=3), "good")
    bad_post = posted(clip, bad, publish_on_x(sandbox, bad_creds, video, "bad", timedelta(hours=3))[0],
                      timedelta(hours=3), "bad")
    sandbox.fault(bad_creds["user_id"], "revoke_tokens")

    assert refresh_recent() == 1
    good_post.refresh_from_db()
    bad_post.refresh_from_db()
    assert good_post.metrics["impression_count"] > 0 and bad_post.metrics == {}
