"""Claiming due posts: atomically, spaced per account, late ones skipped — never a burst, never twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import audit
from generation.models import Clip
from publishing.models import Post, PostStatus, XAccount
from publishing.notifications import notify_post_failed
from publishing.scheduling import CatchUp, catch_up_decision

log = logging.getLogger(__name__)

DISPATCH_BATCH = 500
# A post in flight that has not moved for this long has lost its task (broker restart, lost message): re-enqueue.


@dataclass
class DispatchResult:
    claimed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    waiting: int = 0
    # Due posts whose clip is not ready yet (waiting out POST_CLIP_GRACE), and those that gave up on it.
    waiting_for_clip: int = 0
    clip_not_ready: list[int] = field(default_factory=list)


def claim_due_posts(now: datetime | None = None, batch: int = DISPATCH_BATCH) -> DispatchResult:
    """Move due posts from `scheduled` to `uploading` and return their ids for enqueueing.

    Several dispatchers may run at once: `skip_locked` lets each take different posts, and the account rows are
    locked (in id order, so no deadlock) while the per-account spacing is decided.
    """
    now = now or timezone.now()
    result = DispatchResult()
    with transaction.atomic():
        due = list(
            Post.objects.dispatchable(now)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("scheduled_at", "id")
            .only("id", "scheduled_at", "x_account_id", "clip_id")[:batch]
        )
        if not due:
            return result
        due = _without_clip_not_ready(due, now, result)
        accounts = {
            a.pk: a
            for a in XAccount.objects.select_for_update()
            .filter(pk__in={p.x_account_id for p in due})
            .order_by("pk")
        }
        touched: set[int] = set()
        for post in due:
            account = accounts[post.x_account_id]
            decision = catch_up_decision(
                post.scheduled_at, now, account.last_post_started_at, account.min_post_gap, account.max_lateness
            )
            if decision is CatchUp.SEND:
                result.claimed.append(post.pk)
                account.last_post_started_at = now
                touched.add(account.pk)
            elif decision is CatchUp.SKIP:
                result.skipped.append(post.pk)
                late = now - post.scheduled_at
                message = (
                    f"Skipped: it was due {_hours(late)} ago, later than @{account.handle}'s maximum lateness of "
                    f"{_hours(account.max_lateness)} (Clipcast or X was unavailable). Reschedule it to post it."
                )
                Post.objects.filter(pk=post.pk).update(status=PostStatus.FAILED, updated_at=now, last_error=message)
                post.x_account = account
                audit.record("failed", post, {"status": [PostStatus.SCHEDULED, PostStatus.FAILED],
                                              "last_error": [None, message]}, actor=None)
            else:
                result.waiting += 1
        if result.claimed:
            Post.objects.filter(pk__in=result.claimed).update(status=PostStatus.UPLOADING, updated_at=now)
        for pk in touched:
            XAccount.objects.filter(pk=pk).update(last_post_started_at=now)
    if result.claimed or result.skipped:
        log.info("posts.dispatched claimed=%s skipped=%s waiting=%s", len(result.claimed), len(result.skipped),
                 result.waiting)
    for post in Post.objects.filter(pk__in=result.clip_not_ready).select_related("x_account__workspace",
                                                                                  "clip__campaign"):
        notify_post_failed(post)
    return result


def _without_clip_not_ready(due: list[Post], now: datetime, result: DispatchResult) -> list[Post]:
    """Hold back due posts whose clip is not ready (still rendering, or waiting for its review): a post never goes
    out without its clip. Each waits up to POST_CLIP_GRACE seconds past its time, then fails with the reason; one
    whose clip can no longer become ready (failed, cancelled, rejected) fails at once."""
    grace = timedelta(seconds=settings.POST_CLIP_GRACE)
    clips = Clip.objects.select_related("campaign").in_bulk({post.clip_id for post in due})
    ready = []
    for post in due:
        clip = clips[post.clip_id]
        problem = clip.why_not_postable()
        if problem is None:
            ready.append(post)
            continue
        late = now - post.scheduled_at
        if clip.can_wait_to_be_postable and late <= grace:
            result.waiting_for_clip += 1
            continue
        waited = f" after waiting {_hours(late)} for it (POST_CLIP_GRACE)" if clip.can_wait_to_be_postable else ""
        message = f"Not posted{waited}: {problem} Reschedule the post once its clip is ready."
        if Post.objects.filter(pk=post.pk, status=PostStatus.SCHEDULED).update(
                status=PostStatus.FAILED, updated_at=now, last_error=message):
            audit.record("failed", post, {"status": [PostStatus.SCHEDULED, PostStatus.FAILED],
                                          "last_error": [None, message]}, actor=None)
            result.clip_not_ready.append(post.pk)
    if result.clip_not_ready:
        log.warning("posts.clip_not_ready failed=%s waiting=%s", result.clip_not_ready, result.waiting_for_clip)
    return ready


def stale_in_flight(now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.PUBLISH_STALE_AFTER)
    return list(Post.objects.in_flight().filter(updated_at__lt=stale_before).values_list("pk", flat=True))


def _hours(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
