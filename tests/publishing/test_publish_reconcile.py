"""The publisher reconciles by this post's media, never by its caption: the publisher runs
in this process (each call is one task run) against the X sandbox and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from publishing import publisher
from publishing.models import Post, PostStatus
from tests.factories import PromptTemplateFactory
from tests.publishing.test_publish_worker import approved_clip, connected_account, x_env  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("x_env")]


@pytest.fixture
def campaign():
    return PromptTemplateFactory().campaign


def going_out(clip, account, caption: str) -> Post:
    """A post the dispatcher has just claimed."""
    return Post.objects.create(clip=clip, x_account=account, caption=caption, status=PostStatus.UPLOADING,
                               scheduled_at=timezone.now() - timedelta(seconds=1))


def run_until_settled(post: Post, runs: int = 5) -> Post:
    for _ in range(runs):
        try:
            publisher.publish(post.pk)
        except publisher.RetryLater:
            continue  # the task would run again after the countdown: run it now
        break
    post.refresh_from_db()
    return post


def test_a_second_clip_with_the_same_caption_fails_with_change_the_caption_not_posted(sandbox, make_video,
                                                                                      campaign):
    account = connected_account(sandbox, campaign.workspace)
    first = going_out(approved_clip(make_video, campaign), account, "Summer sale starts now")
    second = going_out(approved_clip(make_video, campaign), account, "Summer sale starts now")

    assert run_until_settled(first).status == PostStatus.POSTED
    second = run_until_settled(second)

    assert second.status == PostStatus.FAILED, "the second clip was taken for the first clip's post"
    assert second.x_post_id == "" and second.x_post_url == ""
    assert "X refuses the same text twice on one account" in second.last_error
    assert "change the caption" in second.last_error
    [on_x] = sandbox.posts(account.x_user_id)
    assert on_x["id"] == first.x_post_id and on_x["media_id"] == first.media_id


def test_a_503_on_a_create_that_did_not_land_then_a_duplicate_of_another_clip_fails_the_post(sandbox,
                                                                                            make_video, campaign):
    account = connected_account(sandbox, campaign.workspace)
    first = run_until_settled(going_out(approved_clip(make_video, campaign), account, "Same words"))
    second = going_out(approved_clip(make_video, campaign), account, "Same words")
    sandbox.fault(account.x_user_id, "server_error", status=503, method="POST", path="/2/tweets")

    with pytest.raises(publisher.RetryLater):
        publisher.publish(second.pk)  # 503 on create: the outcome is in doubt, the post stays `posting`
    second.refresh_from_db()
    assert second.status == PostStatus.POSTING
    second = run_until_settled(second)

    assert second.status == PostStatus.FAILED and second.x_post_id == ""
    assert "change the caption" in second.last_error
    assert [p["id"] for p in sandbox.posts(account.x_user_id)] == [first.x_post_id]


@pytest.mark.parametrize("fault", [{"kind": "server_error", "status": 503}, {"kind": "delay", "delay": 1.0}],
                         ids=["503", "timeout"])
def test_a_create_that_landed_unanswered_then_a_duplicate_403_is_found_by_its_media(sandbox, make_video,
                                                                                   campaign, settings, fault):
    # X creates the post but answers 503 (or after our read timeout), and its timeline lags by 1.5 s, so the
    # look before creating again misses it and the create gets a duplicate 403: this post's media settles it.
    settings.X_REQUEST_TIMEOUT = 0.5
    account = connected_account(sandbox, campaign.workspace, timeline_lag_secs=1.5)
    other = run_until_settled(going_out(approved_clip(make_video, campaign), account, "Other clip, other words"))
    post = going_out(approved_clip(make_video, campaign), account, "Landed but unanswered")
    sandbox.fault(account.x_user_id, **fault, method="POST", path="/2/tweets", lands=True)

    with pytest.raises(publisher.RetryLater):
        publisher.publish(post.pk)
    post = run_until_settled(post)

    on_x = {p["media_id"]: p for p in sandbox.posts(account.x_user_id)}
    assert post.status == PostStatus.POSTED, post.last_error
    assert post.x_post_id == on_x[post.media_id]["id"] != other.x_post_id
    assert len(on_x) == 2
    statuses = sorted(c.status for c in sandbox.server.sandbox.api_calls
                      if c.user_id == account.x_user_id and (c.method, c.path) == ("POST", "/2/tweets"))
    assert 403 in statuses, "the scenario did not reach the duplicate 403 it is about"
