"""Publishing workflows: connect an X account with OAuth 2.0; put an approved clip on an account's schedule, move
it, cancel it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import audit
from accounts.models import Workspace
from campaigns.models import Campaign, CaptionTemplate
from generation.costs import shared_forecast
from generation.models import Clip, ClipStatus
from publishing import gateway
from publishing.captions import validate_caption
from publishing.models import AccountStatus, Experiment, ExperimentStatus, Post, PostStatus, XAccount
from publishing.scheduling import local_to_utc, next_free_slot
from publishing.x import OAuth2Token, XUser

log = logging.getLogger(__name__)

# A post scheduled a little in the past (the form took a while) still goes out; further back is a mistake.
PAST_TOLERANCE = timedelta(minutes=2)
MAX_SCHEDULE_AHEAD = timedelta(days=366)


def caption_for(clip: Clip, template: CaptionTemplate | None) -> str:
    """A caption template rendered with this clip's own variables and prompt (the prompt when there is none)."""
    if template is None:
        return clip.prompt
    if template.campaign_id != clip.campaign_id:
        raise ValidationError(f"Caption template “{template.name}” belongs to another campaign: pick one of this "
                              "clip's campaign.")
    return template.render({**clip.variables, "prompt": clip.prompt})


def default_caption(clip: Clip) -> str:
    """The campaign's default caption template with the clip's variables, or the prompt when there is none."""
    return caption_for(clip, clip.campaign.default_caption_template())


def check_postable(clip: Clip, account: XAccount) -> None:
    problem = clip.why_not_schedulable()
    if problem:
        raise ValidationError(problem)
    if account.workspace_id != clip.campaign.workspace_id:
        raise ValidationError("That X account belongs to another workspace.")
    if account.status != AccountStatus.ACTIVE:
        raise ValidationError(f"@{account.handle} needs attention ({account.get_status_display()}): reconnect it.")


def check_when(scheduled_at: datetime, now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    if timezone.is_naive(scheduled_at):
        raise ValidationError("The posting time has no time zone.")
    if scheduled_at < now - PAST_TOLERANCE:
        raise ValidationError("That time is in the past: pick a time in the future.")
    if scheduled_at > now + MAX_SCHEDULE_AHEAD:
        raise ValidationError("That time is more than a year ahead: pick an earlier date.")
    return scheduled_at


@transaction.atomic
def schedule_post(clip: Clip, account: XAccount, caption: str | None, scheduled_at: datetime,
                  now: datetime | None = None) -> Post:
    check_postable(clip, account)
    text = validate_caption(caption if caption is not None else default_caption(clip))
    post = Post.objects.create(clip=clip, x_account=account, caption=text,
                               scheduled_at=check_when(scheduled_at, now=now))
    audit.record("scheduled", post, audit.created(post))
    log.info("post.scheduled post=%s clip=%s account=%s at=%s", post.pk, clip.pk, account.pk, post.scheduled_at)
    return post


def caption_warnings(post: Post) -> list[str]:
    """What to tell whoever just scheduled `post` (or changed its caption) about captions this account already
    posted or has scheduled. A warning, not a refusal: X's duplicate window is undocumented, the other post may be
    cancelled or deleted first, and if X does refuse, the post fails with "change the caption" (never a false
    success), so the marketer decides."""
    others = Post.objects.same_caption(post.x_account_id, post.caption).exclude(pk=post.pk)
    handle = post.x_account.handle
    warnings = []
    posted = others.filter(status=PostStatus.POSTED).order_by("-posted_at").first()
    if posted is not None:
        when = f"{posted.posted_at:%Y-%m-%d %H:%M} UTC" if posted.posted_at else "earlier"
        warnings.append(f"@{handle} already posted this exact caption (post {posted.pk}, {when}). X refuses the same "
                        "text twice on one account: change the caption, or this post will likely fail.")
    pending = others.exclude(status=PostStatus.POSTED).order_by("scheduled_at", "pk").first()
    if pending is not None:
        warnings.append(f"@{handle} already has this exact caption scheduled (post {pending.pk}, "
                        f"{pending.scheduled_at:%Y-%m-%d %H:%M} UTC). X refuses the same text twice on one account: "
                        "change one of the captions, or the later post will likely fail.")
    return warnings


def clip_warnings(post: Post) -> list[str]:
    """What to tell whoever just scheduled a post of a clip that is not rendered yet: it waits for the clip, and
    whether the render queue says the clip will be ready in time."""
    clip = post.clip
    if clip.status not in (ClipStatus.QUEUED, ClipStatus.RENDERING):
        return []
    grace = settings.POST_CLIP_GRACE // 60
    warnings = [f"Clip {clip.pk} is still {clip.get_status_display().lower()}: it renders ahead of clips needed later, "
                f"and the post waits up to {grace} min past its time for it (approved, where the campaign requires "
                "it), then fails."]
    predicted = shared_forecast().get(clip.pk)
    if predicted is not None and predicted.late:
        ready = f"{predicted.ready_at:%Y-%m-%d %H:%M} UTC"
        warnings.append(f"Clip {clip.pk} is not expected to be ready before its post ({ready}, from the render queue "
                        "ahead of it): schedule the post later.")
    return warnings


def schedule_post_local(clip: Clip, account: XAccount, caption: str | None, local: datetime) -> Post:
    """Schedule at a wall-clock time in the campaign's time zone (DST rules in publishing.scheduling)."""
    return schedule_post(clip, account, caption, local_to_utc(local, clip.campaign.timezone))


@transaction.atomic
def add_to_queue(clip: Clip, account: XAccount, caption: str | None = None, now: datetime | None = None) -> Post:
    """Schedule at the campaign's next posting slot that no post of this account occupies."""
    now = now or timezone.now()
    campaign = clip.campaign
    slots = list(campaign.posting_slots.values_list("weekday", "local_time"))
    if not slots:
        raise ValidationError("This campaign has no posting slots: add one, or pick a date and time.")
    # Lock the account's schedule so two "add to queue" clicks cannot take the same slot.
    XAccount.objects.select_for_update().filter(pk=account.pk).first()
    taken = Post.objects.filter(x_account=account, scheduled_at__gt=now).exclude(
        status__in=[PostStatus.CANCELLED, PostStatus.FAILED]
    ).values_list("scheduled_at", flat=True)
    when = next_free_slot(slots, campaign.timezone, now, taken)
    if when is None:
        raise ValidationError("Every posting slot of the next 8 weeks is taken: add slots or pick a time.")
    # The slot was picked against `now`: judge it against the same clock.
    return schedule_post(clip, account, caption, when, now=now)


@transaction.atomic
def cancel_post(post: Post) -> bool:
    """Only a post that has not started going out can be cancelled; the publisher re-checks before each step."""
    cancelled = Post.objects.filter(pk=post.pk, status=PostStatus.SCHEDULED).update(
        status=PostStatus.CANCELLED, updated_at=timezone.now()
    )
    if cancelled:
        audit.record("cancelled", post, {"status": [PostStatus.SCHEDULED, PostStatus.CANCELLED]})
    return bool(cancelled)


def archive_campaign(campaign: Campaign) -> int:
    """Archive the campaign and cancel its posts that have not started going out; returns how many were cancelled.

    An archived campaign is finished: letting its queue keep posting would surprise the marketer who archived it."""
    with transaction.atomic():
        campaign.archive()
        scheduled = Post.objects.filter(clip__campaign=campaign, status=PostStatus.SCHEDULED).select_for_update()
        posts = list(scheduled.select_related("x_account"))
        cancelled = Post.objects.filter(pk__in=[p.pk for p in posts]).update(
            status=PostStatus.CANCELLED, updated_at=timezone.now()
        )
        audit.record_many("cancelled", posts, lambda post: {
            "status": [PostStatus.SCHEDULED, PostStatus.CANCELLED], "because": [None, "campaign archived"]})
        # Its running experiments stop too: one decided later would render the winner's neighbours for a campaign
        # that is finished.
        running = list(Experiment.objects.filter(campaign=campaign, status=ExperimentStatus.RUNNING)
                       .select_for_update())
        Experiment.objects.filter(pk__in=[e.pk for e in running]).update(status=ExperimentStatus.STOPPED)
        audit.record_many("stopped", running, lambda experiment: {
            "status": [ExperimentStatus.RUNNING, ExperimentStatus.STOPPED], "because": [None, "campaign archived"]})
    log.info("campaign.archived campaign=%s cancelled_posts=%s", campaign.pk, cancelled)
    return cancelled


def reschedule_post(post: Post, scheduled_at: datetime, caption: str | None = None) -> bool:
    changes: dict = {"scheduled_at": check_when(scheduled_at), "updated_at": timezone.now()}
    if caption is not None:
        changes["caption"] = validate_caption(caption)
    with transaction.atomic():
        before = Post.objects.select_for_update().filter(pk=post.pk, status=PostStatus.SCHEDULED).first()
        if before is None:
            return False
        Post.objects.filter(pk=post.pk).update(**changes)
        after = Post.objects.get(pk=post.pk)
        audit.record("rescheduled", post, audit.diff(audit.snapshot(before), audit.snapshot(after)))
    return True


def publish_now(post: Post) -> bool:
    """Make a scheduled post due now; the dispatcher sends it on its next tick (the account's spacing applies)."""
    now = timezone.now()
    with transaction.atomic():
        before = Post.objects.select_for_update().filter(pk=post.pk, status=PostStatus.SCHEDULED).first()
        moved = Post.objects.filter(pk=post.pk, status=PostStatus.SCHEDULED).update(scheduled_at=now, updated_at=now)
        if moved:
            audit.record("post_now", post, {"scheduled_at": [before.scheduled_at, now]})
    if moved:
        log.info("post.publish_now post=%s", post.pk)
    return bool(moved)


def post_now(clip: Clip, account: XAccount, caption: str | None = None) -> Post:
    """Put an approved clip on `account` due now: the dispatcher sends it on its next tick, spacing applies."""
    post = schedule_post(clip, account, caption, timezone.now())
    log.info("post.publish_now post=%s clip=%s", post.pk, clip.pk)
    return post


def retry_post(post: Post) -> bool:
    """Put a failed post back on the schedule, due now, with a fresh budget of attempts (kept ones would fail it
    at its first transient error); the log keeps the earlier count. A post that failed while `posting` keeps its
    media id and `failed_in`, so the publisher first looks for it on X (its create may have landed) and only
    uploads again when it is not there.

    Raises ValidationError when the account cannot post, since the retry would only fail again.
    """
    if not Post.objects.filter(pk=post.pk, status=PostStatus.FAILED).exists():
        return False
    account = XAccount.objects.get(pk=post.x_account_id)
    if account.status != AccountStatus.ACTIVE:
        raise ValidationError(f"@{account.handle} needs attention ({account.get_status_display()}): reconnect it.")
    now = timezone.now()
    with transaction.atomic():
        moved = Post.objects.filter(pk=post.pk, status=PostStatus.FAILED).update(
            status=PostStatus.SCHEDULED, scheduled_at=now, last_error="", attempts=0, updated_at=now
        )
        if moved:
            audit.record("retried", post, {"status": [PostStatus.FAILED, PostStatus.SCHEDULED],
                                           "scheduled_at": [post.scheduled_at, now]})
    if moved:
        log.info("post.retry post=%s earlier_attempts=%s", post.pk, post.attempts)
    return bool(moved)


def connect_oauth2_account(workspace: Workspace, token: OAuth2Token, me: XUser,
                           reconnecting: XAccount | None = None) -> XAccount:
    """Create or update the workspace's account for the X user `me` with a fresh OAuth 2.0 token.

    The row is found by X user id (the handle can change on X), then by handle; reconnecting an account with
    another X user's consent is refused, since its posts would then go out under someone else's name.
    """
    if reconnecting is not None and reconnecting.x_user_id and reconnecting.x_user_id != me.id:
        raise ValidationError(f"You authorized X as @{me.username}, but are reconnecting @{reconnecting.handle}: "
                              f"sign in to X as @{reconnecting.handle} (or sign out of X) and reconnect again.")
    with transaction.atomic():
        accounts = XAccount.objects.select_for_update().filter(workspace=workspace)
        same_user = accounts.filter(x_user_id=me.id).first() or accounts.filter(handle__iexact=me.username).first()
        account = accounts.filter(pk=reconnecting.pk).first() if reconnecting is not None else None
        if account is not None and same_user is not None and same_user.pk != account.pk:
            raise ValidationError(f"@{me.username} is already connected in this workspace: reconnect that account "
                                  "instead.")
        account = account or same_user or XAccount(workspace=workspace)
        before = audit.snapshot(account) if account.pk else {}
        account.handle, account.x_user_id = me.username, me.id
        account.set_oauth2_token(token.access_token, token.refresh_token or "", token.expires_at)
        account.save()
        audit.record("account_reconnected" if before else "account_connected", account,
                     audit.diff(before, audit.snapshot(account)))
    log.info("x_account.connected account=%s workspace=%s x_user=%s auth=oauth2", account.pk, workspace.pk, me.id)
    return account


def complete_oauth2_connect(workspace: Workspace, callback_url: str, state: str, code_verifier: str,
                            reconnecting: XAccount | None = None) -> XAccount:
    """The callback half of "Connect with X": check state, exchange the code, ask X who this is, store the account.

    Raises XError (declined, state mismatch, missing permission, X unavailable) or ValidationError, each with a
    message for the user.
    """
    flow = gateway.oauth2_flow()
    code = flow.code_from_callback(callback_url, state)
    token = flow.exchange_code(code, code_verifier)
    with gateway.client_for_token(token) as client:
        me = client.get_me()
    return connect_oauth2_account(workspace, token, me, reconnecting)
