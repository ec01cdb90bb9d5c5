"""Posting exactly once on an API without idempotency keys, shared by the publisher and `manage.py x_post`.

When a create's outcome is unknown (a timeout, a 5xx, a crash right after the call), the only thing that identifies
*this* post on X is the media uploaded for it: a media id belongs to one upload by one account, while two clips
may share a caption. So before creating again we look for a recent post carrying this media, and a duplicate-text
403 is checked against this media too: found, the earlier attempt landed; not found, another post of the account
has this caption, which the marketer fixes by changing it. Text is never used to match.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from publishing.x.client import XClient, XPost
from publishing.x.errors import DUPLICATE_TEXT, Reason, XError
from publishing.x.upload import ProgressCallback, Source, UploadedMedia

log = logging.getLogger(__name__)

MAX_BACKOFF_SECS = 900.0
# After a duplicate 403 on a create whose outcome was in doubt: X's user timeline can lag a create by seconds, so
# look for this media a few more times before calling the text a duplicate of another post.
RECHECK_DELAYS = (2.0, 5.0)


@dataclass(frozen=True)
class Created:
    post: XPost
    reconciled: bool  # found on X (an earlier attempt had landed) rather than created by this call


def backoff_secs(attempt: int, error: XError, now: datetime | None = None) -> float:
    """Seconds to wait before attempt `attempt + 1`: X's reset time when it gave one, else 5 s doubling to 15 min."""
    if error.retry_at is not None:
        return max(1.0, (error.retry_at - (now or datetime.now(UTC))).total_seconds() + 1)
    return min(MAX_BACKOFF_SECS, 5.0 * 2 ** max(0, attempt - 1))


def create_once(client: XClient, text: str, media_id: str, *, in_doubt: bool, user_id: str | None = None,
                made_with_ai: bool = False, recheck_delays: tuple[float, ...] = RECHECK_DELAYS,
                sleep: Callable[[float], None] = time.sleep) -> Created:
    """Create the post carrying `media_id`, or find it on X if an earlier create with this media landed.

    `in_doubt`: an earlier create with this media may have reached X (it timed out, failed with a 5xx, or its
    process died), so look for the media first. Raises XError; a duplicate-text refusal that no post with this
    media explains is permanent, with the message to change the caption.
    """
    if in_doubt:
        found = client.find_recent_post(media_id=media_id, user_id=user_id)
        if found is not None:
            log.warning("x.post.reconciled post_id=%s media_id=%s", found.id, media_id)
            return Created(found, reconciled=True)
    try:
        return Created(client.create_post(text, media_ids=[media_id], made_with_ai=made_with_ai), reconciled=False)
    except XError as error:
        if error.reason_code != Reason.DUPLICATE:
            raise
        duplicate = error
    for delay in (0.0, *(recheck_delays if in_doubt else ())):
        if delay:
            sleep(delay)
        found = client.find_recent_post(media_id=media_id, user_id=user_id)
        if found is not None:
            log.warning("x.post.reconciled_after_duplicate post_id=%s media_id=%s", found.id, media_id)
            return Created(found, reconciled=True)
    log.warning("x.post.duplicate_text media_id=%s in_doubt=%s", media_id, in_doubt)
    raise XError(DUPLICATE_TEXT, permanent=True, reason_code=Reason.DUPLICATE, status=duplicate.status) from duplicate


@dataclass(frozen=True)
class Outcome:
    created: Created
    media: UploadedMedia
    attempts: int


def post_video(client: XClient, source: Source, text: str, *, made_with_ai: bool, max_attempts: int,
               user_id: str | None = None, max_wait_secs: float = 600.0, progress: ProgressCallback | None = None,
               report: Callable[[str], None] = lambda line: None,
               sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Upload and post in one process, as the publisher does across task runs: transient errors are retried with
    the publisher's backoff up to `max_attempts`, a create in doubt is reconciled by media before creating again,
    and `report` is told what happened. Raises XError (permanent, or the last transient one)."""
    media: UploadedMedia | None = None
    in_doubt = False
    for attempt in range(1, max_attempts + 1):
        stage = "upload"
        try:
            if media is None:
                media = client.upload_video(source, progress=progress, max_wait_secs=max_wait_secs)
                report(f"processed: media {media.media_id}")
            stage = "create"
            created = create_once(client, text, media.media_id, in_doubt=in_doubt, user_id=user_id,
                                  made_with_ai=made_with_ai, sleep=sleep)
            if created.reconciled:
                report(f"found post {created.post.id} with media {media.media_id} on X: an earlier attempt had "
                       "gone through, so it was not created again")
            return Outcome(created, media, attempt)
        except XError as error:
            if error.permanent:
                raise
            if error.reason_code == Reason.MEDIA_EXPIRED:
                media, in_doubt = None, False  # X refused the media, so nothing was created with it
            elif stage == "create":
                in_doubt = True
            if attempt == max_attempts:
                raise XError(f"X kept failing after {attempt} attempts; last error: {error.message}",
                             permanent=True, reason_code=error.reason_code, status=error.status) from error
            wait = backoff_secs(attempt, error)
            then = "look for the post on X, then create it only if it is not there" if in_doubt else "try again"
            report(f"attempt {attempt}/{max_attempts} failed at {stage}: {error.message} Will {then} in "
                   f"{wait:.0f} s.")
            sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")
