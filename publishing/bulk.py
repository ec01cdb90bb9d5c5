"""Acting on many clips at once from the gallery: approve, reject, add to an account's queue, or schedule one per
posting slot. Each clip gets its own outcome; one that cannot be done is skipped with the reason, never fails the
others."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import ROLE_RANK, Membership, Role
from campaigns.models import CaptionTemplate
from generation.models import Clip, ClipStatus, ReviewStatus
from generation.services import review_clip
from publishing.models import Post, PostStatus, XAccount
from publishing.scheduling import next_free_slot
from publishing.services import caption_for, schedule_post

log = logging.getLogger(__name__)

MAX_BULK = 100


class BulkAction(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    QUEUE = "queue"  # each clip into its account's next free posting slot
    SLOTS = "slots"  # one clip per free posting slot from a chosen moment on

    @property
    def needed_role(self) -> Role:
        return Role.REVIEWER if self in (BulkAction.APPROVE, BulkAction.REJECT) else Role.EDITOR

    @property
    def schedules(self) -> bool:
        return self in (BulkAction.QUEUE, BulkAction.SLOTS)


@dataclass
class Outcome:
    clip_id: int
    done: bool
    message: str
    post: Post | None = None


def roles_of(user) -> dict[int, Role]:
    return {ws: Role(role) for ws, role in Membership.objects.filter(user=user).values_list("workspace_id", "role")}


def permitted_any(user, clips: list[Clip], action: BulkAction) -> bool:
    roles = roles_of(user)
    return any(_allowed(roles, clip, action) for clip in clips)


def _allowed(roles: dict[int, Role], clip: Clip, action: BulkAction) -> bool:
    role = roles.get(clip.campaign.workspace_id)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[action.needed_role]


def _not_ready(clip: Clip) -> str | None:
    if clip.status == ClipStatus.SUCCEEDED:
        return None
    if clip.status in (ClipStatus.QUEUED, ClipStatus.RENDERING):
        return f"Not ready: it is still {clip.get_status_display().lower()} ({clip.progress}%)."
    return f"Not ready: its render {clip.get_status_display().lower()}; retry it first."


def act_on_clips(user, clips: list[Clip], action: BulkAction, account: XAccount | None = None,
                 caption_template: CaptionTemplate | None = None, starting: datetime | None = None) -> list[Outcome]:
    """Apply `action` to each clip in the given order and say what happened to each."""
    if len(clips) > MAX_BULK:
        raise ValidationError(f"Select at most {MAX_BULK} clips at once.")
    if action.schedules and account is None:
        raise ValidationError("Pick the X account to post on.")
    roles = roles_of(user)
    now = timezone.now()
    start = max(starting, now) if action is BulkAction.SLOTS and starting else now
    outcomes = []
    for clip in clips:
        if not _allowed(roles, clip, action):
            outcome = Outcome(clip.pk, False, f"Not permitted: this needs the {action.needed_role.label.lower()} role; "
                                              "reviewers may only approve or reject, viewers only read.")
        else:
            try:
                outcome = _act(user, clip, action, account, caption_template, start)
            except ValidationError as exc:
                outcome = Outcome(clip.pk, False, " ".join(exc.messages))
        outcomes.append(outcome)
    log.info("clips.bulk action=%s done=%s skipped=%s", action.value, sum(o.done for o in outcomes),
             sum(not o.done for o in outcomes))
    return outcomes


def _act(user, clip: Clip, action: BulkAction, account: XAccount | None, caption_template: CaptionTemplate | None,
         start: datetime) -> Outcome:
    problem = _not_ready(clip)
    if problem:
        return Outcome(clip.pk, False, problem)
    if not action.schedules:
        wanted = ReviewStatus.APPROVED if action is BulkAction.APPROVE else ReviewStatus.REJECTED
        if clip.review_status == wanted:
            return Outcome(clip.pk, False, f"Already {wanted.label.lower()}.")
        review_clip(clip, user, approve=action is BulkAction.APPROVE)
        return Outcome(clip.pk, True, f"{wanted.label}.")
    caption = caption_for(clip, caption_template or clip.campaign.default_caption_template())
    post = _into_next_slot(clip, account, caption, start)
    return Outcome(clip.pk, True, f"Scheduled on @{account.handle} for {post.scheduled_at:%Y-%m-%d %H:%M} UTC.", post)


@transaction.atomic
def _into_next_slot(clip: Clip, account: XAccount, caption: str, after: datetime) -> Post:
    campaign = clip.campaign
    slots = list(campaign.posting_slots.values_list("weekday", "local_time"))
    if not slots:
        raise ValidationError(f"Campaign “{campaign.name}” has no posting slots: add one on its page.")
    XAccount.objects.select_for_update().filter(pk=account.pk).first()
    taken = Post.objects.filter(x_account=account, scheduled_at__gt=after).exclude(
        status__in=[PostStatus.CANCELLED, PostStatus.FAILED]).values_list("scheduled_at", flat=True)
    when = next_free_slot(slots, campaign.timezone, after, taken)
    if when is None:
        raise ValidationError("Every posting slot of the next 8 weeks is taken: add slots or pick a time.")
    return schedule_post(clip, account, caption, when)
