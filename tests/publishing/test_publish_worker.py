"""Publishing through real workers (Redis + PostgreSQL) to the X sandbox: once, and only once."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files import File
from django.utils import timezone

from generation.models import Clip, ClipStatus, ReviewStatus
from publishing.models import AccountStatus, AuthKind, Post, PostStatus, XAccount
from publishing.tasks import dispatch_due_posts
from tests.factories import PromptTemplateFactory

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONSUMER = {"consumer_key": "clipcast-test-consumer", "consumer_secret": "clipcast-test-consumer-secret"}


@pytest.fixture
def x_env(sandbox, settings, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = media
    settings.X_API_BASE_URL = settings.X_UPLOAD_BASE_URL = settings.X_WEB_BASE_URL = sandbox.url
    settings.X_CONSUMER_KEY, settings.X_CONSUMER_SECRET = CONSUMER["consumer_key"], CONSUMER["consumer_secret"]
    sandbox.configure(processing_secs=0)
    return {"MEDIA_ROOT": str(media), "X_API_BASE_URL": sandbox.url, "X_UPLOAD_BASE_URL": sandbox.url,
            "X_WEB_BASE_URL": sandbox.url, "X_CONSUMER_KEY": CONSUMER["consumer_key"],
            "X_CONSUMER_SECRET": CONSUMER["consumer_secret"], "CLIPCAST_CRASH_DIR": str(tmp_path)}


def connected_account(sandbox, workspace, **limits) -> XAccount:
    creds = sandbox.create_account(**CONSUMER, post_limit=100_000, daily_post_limit=100_000, **limits)
    return XAccount.objects.create(
        workspace=workspace, handle=creds["username"], x_user_id=creds["user_id"], auth_kind=AuthKind.OAUTH1,
        access_token=creds["access_token"], access_token_secret=creds["access_token_secret"],
        min_post_gap=timedelta(0),
    )


def approved_clip(make_video, campaign) -> Clip:
    clip = Clip.objects.create(campaign=campaign, prompt="a red circle", seed=1, status=ClipStatus.SUCCEEDED,
                               review_status=ReviewStatus.APPROVED)
    with open(make_video(seconds=1.0), "rb") as handle:
        clip.video.save("clip.mp4", File(handle))
    return clip


def due_posts(clip, account, count: int) -> list[Post]:
    now = timezone.now()
    return Post.objects.bulk_create(
        Post(clip=clip, x_account=account, caption=f"Post number {i} of the batch", scheduled_at=now
             - timedelta(seconds=1))
        for i in range(count)
    )


def wait_until_settled(ids, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = Post.objects.filter(pk__in=ids).exclude(status__in=[PostStatus.POSTED, PostStatus.FAILED]).count()
        if not pending:
            break
        time.sleep(0.5)
    return {s: Post.objects.filter(pk__in=ids, status=s).count() for s in PostStatus.values}


def test_a_due_post_is_uploaded_and_posted_with_its_link(start_worker, sandbox, x_env, make_video):
    template = PromptTemplateFactory()
    account = connected_account(sandbox, template.campaign.workspace)
    clip = approved_clip(make_video, template.campaign)
    [post] = due_posts(clip, account, 1)
    start_worker("default,publish", **x_env)
    dispatch_due_posts.delay()
    counts = wait_until_settled([post.pk], timeout=60)
    post.refresh_from_db()
    assert counts["posted"] == 1, post.last_error
    on_x = sandbox.posts(account.x_user_id)
    assert [p["id"] for p in on_x] == [post.x_post_id]
    assert on_x[0]["made_with_ai"] in (True, 1)
    assert post.x_post_url == f"{sandbox.url}/{account.handle}/status/{post.x_post_id}"
    assert sandbox.http.get(post.x_post_url, timeout=5).status_code == 200


def test_a_permanent_x_error_fails_the_post_with_its_reason(start_worker, sandbox, x_env, make_video):
    template = PromptTemplateFactory()
    account = connected_account(sandbox, template.campaign.workspace)
    clip = approved_clip(make_video, template.campaign)
    [post] = due_posts(clip, account, 1)
    sandbox.fault(account.x_user_id, "processing_failure", count=5)
    start_worker("default,publish", **x_env)
    dispatch_due_posts.delay()
    wait_until_settled([post.pk], timeout=60)
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED
    assert post.last_error and "process" in post.last_error.lower()
    assert sandbox.posts(account.x_user_id) == []


def test_a_revoked_token_fails_the_post_and_flags_the_account(start_worker, sandbox, x_env, make_video):
    template = PromptTemplateFactory()
    account = connected_account(sandbox, template.campaign.workspace)
    clip = approved_clip(make_video, template.campaign)
    [post] = due_posts(clip, account, 1)
    sandbox.fault(account.x_user_id, "revoke_tokens")
    start_worker("default,publish", **x_env)
    dispatch_due_posts.delay()
    wait_until_settled([post.pk], timeout=60)
    post.refresh_from_db()
    account.refresh_from_db()
    assert post.status == PostStatus.FAILED
    assert account.status == AccountStatus.NEEDS_RECONNECT


def test_transient_errors_are_retried_until_posted(start_worker, sandbox, x_env, make_video):
    template = PromptTemplateFactory()
    account = connected_account(sandbox, template.campaign.workspace)
    clip = approved_clip(make_video, template.campaign)
    [post] = due_posts(clip, account, 1)
    sandbox.fault(account.x_user_id, "rate_limit", count=1, path="/2/tweets", reset_in=2)
    sandbox.fault(account.x_user_id, "server_error", count=1, path="/2/tweets")
    start_worker("default,publish", **x_env)
    dispatch_due_posts.delay()
    wait_until_settled([post.pk], timeout=90)
    post.refresh_from_db()
    assert post.status == PostStatus.POSTED, post.last_error
    assert post.attempts >= 2
    assert len(sandbox.posts(account.x_user_id)) == 1


def test_four_processes_post_a_thousand_due_posts_exactly_once(start_worker, sandbox, x_env, make_video):
    template = PromptTemplateFactory()
    account = connected_account(sandbox, template.campaign.workspace)
    clip = approved_clip(make_video, template.campaign)
    posts = due_posts(clip, account, 1000)
    start_worker("default,publish", concurrency=4, **x_env)
    for _ in range(4):  # four dispatchers racing for the same due posts
        dispatch_due_posts.delay()
    counts = wait_until_settled([p.pk for p in posts], timeout=600)
    assert counts["posted"] == 1000, counts
    on_x = sandbox.posts(account.x_user_id)
    assert len(on_x) == 1000
    assert len({p["text"] for p in on_x}) == 1000
    assert set(Post.objects.values_list("x_post_id", flat=True)) == {p["id"] for p in on_x}


@pytest.mark.parametrize("trial", range(4))
def test_a_publisher_killed_at_a_random_point_recovers_without_duplicates(start_worker, sandbox, x_env,
                                                                         make_video, trial):
    rng = random.Random(trial)
    template = PromptTemplateFactory()
    account = connected_account(sandbox, template.campaign.workspace)
    clip = approved_clip(make_video, template.campaign)
    posts = due_posts(clip, account, 6)
    points = ",".join(rng.sample(["after_upload", "after_processing", "after_create", "before_posted_commit"], 2))
    start_worker("default,publish", concurrency=2, CLIPCAST_CRASH_POINTS=points, **x_env)
    dispatch_due_posts.delay()
    counts = wait_until_settled([p.pk for p in posts], timeout=180)
    on_x = sandbox.posts(account.x_user_id)
    assert counts["posted"] == 6, (points, counts)
    assert len(on_x) == 6, f"duplicates or losses on X with crashes at {points}"
    assert len(list(Path(x_env["CLIPCAST_CRASH_DIR"]).glob("after_*"))) + len(
        list(Path(x_env["CLIPCAST_CRASH_DIR"]).glob("before_*"))) >= 6, "the crash points were not reached"


def test_retrying_a_post_that_failed_mid_create_finds_it_on_x_without_uploading_again(
    start_worker, sandbox, x_env, make_video
):
    from publishing import services

    template = PromptTemplateFactory()
    account = connected_account(sandbox, template.campaign.workspace)
    clip = approved_clip(make_video, template.campaign)
    [post] = due_posts(clip, account, 1)
    # X creates the post, but its answer arrives after the client gave up: the one attempt allowed fails.
    sandbox.fault(account.x_user_id, "delay", delay=2.0, path="/2/tweets")
    start_worker("default,publish", X_REQUEST_TIMEOUT="0.5", PUBLISH_MAX_ATTEMPTS="1", **x_env)
    dispatch_due_posts.delay()
    wait_until_settled([post.pk], timeout=60)
    post.refresh_from_db()
    assert (post.status, post.failed_in) == (PostStatus.FAILED, PostStatus.POSTING), post.last_error
    deadline = time.monotonic() + 10
    while not sandbox.posts(account.x_user_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    [on_x] = sandbox.posts(account.x_user_id)

    def media_uploads() -> int:
        return sum(1 for call in sandbox.server.sandbox.api_calls
                   if call.user_id == account.x_user_id and call.path.startswith("/2/media/upload/initialize"))

    uploads_before = media_uploads()
    assert uploads_before == 1
    assert services.retry_post(post)
    dispatch_due_posts.delay()
    wait_until_settled([post.pk], timeout=60)
    post.refresh_from_db()
    assert post.status == PostStatus.POSTED, post.last_error
    assert post.x_post_id == str(on_x["id"])
    assert len(sandbox.posts(account.x_user_id)) == 1
    assert media_uploads() == uploads_before, "the retry uploaded the video again instead of looking on X first"
