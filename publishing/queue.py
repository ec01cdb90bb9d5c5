"""An account's queue and the calendar's moves: move a post to another day or time (its wall-clock time kept in
its campaign's zone), reorder the queue by swapping times, pause and resume it, post the next one now, and the
empty posting slots between the posts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import audit
from campaigns.models import Campaign, CampaignStatus
from publishing.models import Post, PostStatus, XAccount
from publishing.scheduling import MAX_SLOT_SEARCH, local_to_utc, skipped_by_dst, slot_instants, utc_to_local
from publishing.services import check_postable, check_when, publish_now

log = logging.getLogger(__name__)

QUEUE_HORIZON = timedelta(days=14)
MAX_REORDER = 200


def _locked_scheduled(post: Post) -> Post:
    locked = Post.objects.select_for_update().select_related("clip__campaign", "x_account").filter(pk=post.pk).first()
    if locked is None or locked.status != PostStatus.SCHEDULED:
        raise ValidationError("Only a scheduled post can be moved; this one has started going out, was posted or was "
                              "cancelled.")
    return locked


def move_target(post: Post, local_date: date | None = None, local_time: time | None = None,
                scheduled_at: datetime | None = None) -> datetime:
    """The UTC instant a move aims at: an exact instant, or a local day (and time) in the campaign's zone, the
    post's own wall-clock time kept when no time is given (so 09:00 stays 09:00 across a DST change)."""
    if scheduled_at is not None:
        return scheduled_at
    if local_date is None:
        raise ValidationError("Give the day to move the post to (or an exact scheduled_at).")
    tz_name = post.clip.campaign.timezone
    wall = datetime.combine(local_date, local_time or utc_to_local(post.scheduled_at, tz_name).time())
    wall = wall.replace(tzinfo=None)
    moved = skipped_by_dst(wall, tz_name)
    if moved is not None:
        raise ValidationError(f"{wall:%H:%M} does not exist on {wall:%-d %b %Y} in {tz_name}: the clocks jump forward "
                              f"that night. Pick {moved:%H:%M} or another time.")
    return local_to_utc(wall, tz_name)


@transaction.atomic
def move_post(post: Post, local_date: date | None = None, local_time: time | None = None,
              scheduled_at: datetime | None = None) -> datetime:
    """Move a scheduled post, re-checking everything scheduling checks; returns where it was (for an undo)."""
    post = _locked_scheduled(post)
    target = check_when(move_target(post, local_date, local_time, scheduled_at))
    check_postable(post.clip, post.x_account)
    previous = post.scheduled_at
    Post.objects.filter(pk=post.pk).update(scheduled_at=target, updated_at=timezone.now())
    audit.record("rescheduled", post, {"scheduled_at": [previous, target]})
    log.info("post.moved post=%s from=%s to=%s", post.pk, previous.isoformat(), target.isoformat())
    return previous


@transaction.atomic
def reorder_queue(account: XAccount, post_ids: list[int], now: datetime | None = None) -> list[Post]:
    """Give the listed posts of the account's queue their own times in the listed order: the slots stay, the order
    changes. Any subset of the queue may be listed (two ids swap two posts)."""
    now = now or timezone.now()
    if not post_ids:
        raise ValidationError("List the posts of the queue in their new order.")
    if len(post_ids) > MAX_REORDER:
        raise ValidationError(f"At most {MAX_REORDER} posts can be reordered at once.")
    if len(set(post_ids)) != len(post_ids):
        raise ValidationError("A post is listed twice: list each post of the queue once.")
    XAccount.objects.select_for_update().filter(pk=account.pk).first()
    posts = {p.pk: p for p in Post.objects.select_for_update().filter(x_account=account, pk__in=post_ids)}
    for pk in post_ids:
        post = posts.get(pk)
        if post is None or post.status != PostStatus.SCHEDULED:
            raise ValidationError(f"Post {pk} is not in @{account.handle}'s queue (posted, cancelled, going out or on "
                                  "another account): reload the queue and try again.")
        if post.scheduled_at <= now:
            raise ValidationError(f"Post {pk} is due already and may be going out: reload the queue and try again.")
    times = sorted(posts[pk].scheduled_at for pk in post_ids)
    for pk, when in zip(post_ids, times, strict=True):
        if posts[pk].scheduled_at != when:
            Post.objects.filter(pk=pk).update(scheduled_at=when, updated_at=now)
            audit.record("rescheduled", posts[pk], {"scheduled_at": [posts[pk].scheduled_at, when]})
            posts[pk].scheduled_at = when
    log.info("queue.reordered account=%s posts=%s", account.pk, post_ids)
    return [posts[pk] for pk in post_ids]


def move_in_queue(post: Post, direction: int) -> bool:
    """Swap a post with its neighbour in its account's queue (-1 earlier, +1 later); False at either end."""
    queue = list(Post.objects.upcoming().filter(x_account_id=post.x_account_id).values_list("pk", flat=True))
    if post.pk not in queue:
        raise ValidationError("Only a post waiting in the queue can be moved; reload the queue.")
    index = queue.index(post.pk)
    other = index + direction
    if not 0 <= other < len(queue):
        return False
    reorder_queue(post.x_account, [queue[other], queue[index]] if direction > 0 else [queue[index], queue[other]])
    return True


@transaction.atomic
def set_queue_paused(account: XAccount, paused: bool) -> bool:
    """Pause or resume the account's queue; False when it already was. Due posts of a paused queue wait (and
    one later than the account's maximum lateness when resumed is skipped, as after any downtime)."""
    changed = XAccount.objects.filter(pk=account.pk, queue_paused=not paused).update(
        queue_paused=paused, updated_at=timezone.now())
    account.queue_paused = paused
    if changed:
        audit.record("queue_paused" if paused else "queue_resumed", account, {"queue_paused": [not paused, paused]})
        log.info("queue.%s account=%s", "paused" if paused else "resumed", account.pk)
    return bool(changed)


def post_next_now(account: XAccount) -> Post:
    """Make the first post of the account's queue due now (the dispatcher sends it on its next tick)."""
    account.refresh_from_db(fields=["queue_paused"])
    if account.queue_paused:
        raise ValidationError(f"@{account.handle}'s queue is paused: resume it first, or nothing goes out.")
    post = Post.objects.upcoming().filter(x_account=account).first()
    if post is None or not publish_now(post):
        raise ValidationError(f"@{account.handle} has no scheduled post waiting: add one to the queue first.")
    post.refresh_from_db()
    return post


@dataclass
class Place:
    """One place of an account's queue: a post, or an empty posting slot of a campaign."""

    at: datetime
    post: Post | None = None
    campaign: Campaign | None = None

    @property
    def empty(self) -> bool:
        return self.post is None


def queue_places(account: XAccount, now: datetime | None = None, horizon: timedelta = QUEUE_HORIZON) -> list[Place]:
    """The account's upcoming posts in order, with the free posting slots between them of the workspace's
    campaigns that are neither paused nor archived (up to `horizon` ahead, or the last post if later)."""
    now = now or timezone.now()
    posts = list(Post.objects.upcoming(now).filter(x_account=account).select_related("clip__campaign"))
    end = min(max(now + horizon, posts[-1].scheduled_at if posts else now), now + MAX_SLOT_SEARCH)
    taken = {post.scheduled_at for post in posts}
    places = [Place(at=post.scheduled_at, post=post, campaign=post.clip.campaign) for post in posts]
    campaigns = Campaign.objects.filter(workspace_id=account.workspace_id).exclude(
        status__in=[CampaignStatus.ARCHIVED, CampaignStatus.PAUSED])
    for campaign in campaigns.prefetch_related("posting_slots"):
        slots = [(slot.weekday, slot.local_time) for slot in campaign.posting_slots.all()]
        for instant in slot_instants(slots, campaign.timezone, now, end):
            if instant not in taken:
                taken.add(instant)
                places.append(Place(at=instant, campaign=campaign))
    return sorted(places, key=lambda place: (place.at, place.empty))
