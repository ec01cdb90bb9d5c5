"""Publishing one post: uploading -> processing -> posting -> posted, resumable after a crash at any point.

`posting` is committed before the create call. A run that finds a post already in `posting` does not know
whether the earlier create reached X (a crash, a timeout, a 5xx), so it first looks among the account's recent
posts for one carrying this post's media, and only creates when none does: X has no idempotency key, and two
clips may share a caption, so text never identifies a post (publishing.x.posting).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts import audit
from generation.media import open_stream
from publishing import gateway
from publishing.faults import crash_point
from publishing.models import AccountStatus, Post, PostStatus, XAccount
from publishing.notifications import notify_post_failed
from publishing.x import Reason, XClient, XError, XPost
from publishing.x.posting import backoff_secs, create_once

log = logging.getLogger(__name__)


@dataclass
class RetryLater(Exception):
    """A transient failure: run the task again after `countdown` seconds."""

    countdown: float
    reason: str


class _Moved(Exception):
    """The post left the state this run expected (cancelled, or another run got there first)."""


def _advance(post: Post, from_status: str, to_status: str, **fields) -> None:
    """Conditional state change; commits immediately (autocommit) so a crash after it is seen by the next run."""
    if not Post.objects.filter(pk=post.pk, status=from_status).update(status=to_status, updated_at=timezone.now(),
                                                                         **fields):
        raise _Moved
    post.status = to_status
    for name, value in fields.items():
        setattr(post, name, value)


def _mark_posted(post: Post, account: XAccount, x_post: XPost) -> str:
    crash_point("before_posted_commit", post.pk)
    with transaction.atomic():
        _advance(post, PostStatus.POSTING, PostStatus.POSTED, x_post_id=x_post.id,
                 x_post_url=gateway.post_url(account, x_post.id), posted_at=timezone.now(), last_error="")
        audit.record("posted", post, {"status": [PostStatus.POSTING, PostStatus.POSTED], "x_post_id": [None, x_post.id],
                                      "x_post_url": [None, post.x_post_url]}, actor=None)
    log.info("post.posted post=%s x_post=%s", post.pk, x_post.id)
    return PostStatus.POSTED


def _fail(post: Post, message: str) -> str:
    with transaction.atomic():
        updated = Post.objects.filter(pk=post.pk, status__in=[PostStatus.UPLOADING, PostStatus.PROCESSING,
                                                              PostStatus.POSTING]).update(
            status=PostStatus.FAILED, failed_in=post.status, last_error=message[:2000], updated_at=timezone.now())
        if updated:
            audit.record("failed", post, {"status": [post.status, PostStatus.FAILED], "last_error": [None, message]},
                         actor=None)
    if updated:
        post.status, post.last_error = PostStatus.FAILED, message
        log.warning("post.failed post=%s reason=%s", post.pk, message[:200])
        notify_post_failed(post)
    return PostStatus.FAILED


def publish(post_id: int) -> str:
    """Run (or resume) one post. Returns its status, or raises RetryLater for a transient failure."""
    post = Post.objects.select_related("x_account", "clip").filter(pk=post_id).first()
    if post is None or post.status not in (PostStatus.UPLOADING, PostStatus.PROCESSING, PostStatus.POSTING):
        return post.status if post else "missing"
    Post.objects.filter(pk=post.pk).update(attempts=F("attempts") + 1)
    post.attempts += 1
    account = post.x_account
    resumed_in_posting = post.status == PostStatus.POSTING
    try:
        with gateway.client_for(account) as client:
            return _run(post, account, client, resumed_in_posting)
    except _Moved:
        log.info("post.moved post=%s", post_id)
        return Post.objects.filter(pk=post_id).values_list("status", flat=True).first() or "missing"
    except XError as error:
        return _handle_error(post, account, error)


def _run(post: Post, account: XAccount, client: XClient, resumed_in_posting: bool) -> str:
    if post.status == PostStatus.UPLOADING and post.failed_in == PostStatus.POSTING and post.media_id:
        # A retry of a post that failed mid-create: X may have it already (its answer never arrived).
        found = client.find_recent_post(media_id=post.media_id, user_id=account.x_user_id or None)
        if found is not None:
            log.warning("post.reconciled_on_retry post=%s x_post=%s", post.pk, found.id)
            _advance(post, PostStatus.UPLOADING, PostStatus.POSTING)
            return _mark_posted(post, account, found)
    if post.status == PostStatus.UPLOADING and (problem := post.clip.why_not_postable()):
        # The dispatcher checked, but the clip may have changed since (a re-review, a retried render).
        return _fail(post, f"Not posted: {problem}")
    if post.status == PostStatus.UPLOADING:
        # Streamed from media storage (a local file, or range reads of the bucket object) into X's chunked upload.
        with open_stream(post.clip.video.storage, post.clip.video.name) as video:
            media = client.upload_video(video, wait=False, max_wait_secs=settings.X_MEDIA_MAX_WAIT)
        crash_point("after_upload", post.pk)
        _advance(post, PostStatus.UPLOADING, PostStatus.PROCESSING, media_id=media.media_id, failed_in="")
    if post.status == PostStatus.PROCESSING:
        client.wait_for_media(post.media_id, max_wait_secs=settings.X_MEDIA_MAX_WAIT)
        crash_point("after_processing", post.pk)
        _advance(post, PostStatus.PROCESSING, PostStatus.POSTING)
        resumed_in_posting = False
    created = create_once(client, post.caption, post.media_id, in_doubt=resumed_in_posting,
                          user_id=account.x_user_id or None, made_with_ai=settings.X_MADE_WITH_AI)
    if created.reconciled:
        log.warning("post.reconciled post=%s x_post=%s (an earlier create had gone through)", post.pk,
                    created.post.id)
    else:
        crash_point("after_create", post.pk)
    return _mark_posted(post, account, created.post)


def _handle_error(post: Post, account: XAccount, error: XError) -> str:
    log.warning("post.x_error post=%s code=%s permanent=%s", post.pk, error.reason_code, error.permanent)
    if error.reason_code in (Reason.MEDIA_EXPIRED,) and post.status in (PostStatus.PROCESSING, PostStatus.POSTING):
        # The uploaded media is gone before it was posted: upload again (the create never succeeded with it).
        Post.objects.filter(pk=post.pk, status=post.status).update(status=PostStatus.UPLOADING, media_id="",
                                                                   updated_at=timezone.now())
        raise RetryLater(1.0, error.message)
    if error.reason_code == Reason.TOKEN_INVALID or error.reason_code == Reason.AUTHORIZATION_FAILED:
        with transaction.atomic():
            if XAccount.objects.filter(pk=account.pk).exclude(status=AccountStatus.NEEDS_RECONNECT).update(
                    status=AccountStatus.NEEDS_RECONNECT, status_reason=error.message[:300]):
                audit.record("needs_reconnect", account, {"status": [account.status, AccountStatus.NEEDS_RECONNECT],
                                                          "status_reason": [None, error.message[:300]]}, actor=None)
    if error.permanent:
        return _fail(post, error.message)
    if post.attempts >= settings.PUBLISH_MAX_ATTEMPTS:
        return _fail(post, f"X kept failing after {post.attempts} attempts; last error: {error.message}")
    Post.objects.filter(pk=post.pk).update(last_error=f"Retrying: {error.message}"[:2000], updated_at=timezone.now())
    raise RetryLater(backoff_secs(post.attempts, error, timezone.now()), error.message)
