"""Workflows around clips: create a batch, cancel, review, retry, reap stuck renders."""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import audit
from campaigns.models import Campaign, PromptTemplate
from generation import conversation, costs
from generation.loras import campaign_loras
from generation.models import Clip, ClipStatus, ReviewStatus
from generation.rendering import validate_render_params as validate_render_params  # re-exported for the web side
from generation.vocabulary import closed_vocabulary, warnings_for

log = logging.getLogger(__name__)

RENDER_PARAM_KEYS = (
    "model_key", "frames", "fps", "width", "height", "output_width", "output_height", "steps", "guidance",
)
MAX_RENDER_ATTEMPTS = 3


class SeedPolicy(enum.StrEnum):
    FIXED = "fixed"  # every clip of the batch uses the given seed
    INCREMENT = "increment"  # seed, seed + 1, ...
    RANDOM = "random"  # a fresh random seed per clip, recorded


def fingerprint(prompt: str, negative_prompt: str, params: dict, seed: int) -> str:
    payload = json.dumps(
        {"prompt": prompt, "negative_prompt": negative_prompt, "params": params, "seed": seed}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def render_params_for(campaign: Campaign, overrides: dict | None = None) -> dict:
    params = campaign.render_defaults()
    for key, value in (overrides or {}).items():
        if key not in RENDER_PARAM_KEYS:
            raise ValidationError(f"Unknown render setting {key!r}: use one of {', '.join(RENDER_PARAM_KEYS)}.")
        params[key] = value
    return params


def seeds_for(count: int, policy: SeedPolicy, seed: int | None) -> list[int]:
    if policy is SeedPolicy.RANDOM:
        return [secrets.randbelow(2**31) for _ in range(count)]
    if seed is None or not (0 <= seed < 2**63):
        raise ValidationError("Give a seed between 0 and 2^63-1 for a fixed or incrementing seed policy.")
    if policy is SeedPolicy.FIXED:
        return [seed] * count
    return [seed + i for i in range(count)]


@dataclass
class BatchResult:
    clips: list[Clip]
    duplicates: int
    warnings: list[str] = field(default_factory=list)


def create_clips(
    template: PromptTemplate,
    rows: list[dict[str, str]],
    *,
    params: dict | None = None,
    seed_policy: SeedPolicy = SeedPolicy.INCREMENT,
    seed: int | None = 0,
) -> BatchResult:
    """Render prompts for each row, drop duplicates (same prompt, params and seed), store and enqueue the rest.

    The render settings are checked against the model (frames, size, steps) first; ValidationError is raised and
    nothing is written when any row or setting is invalid.
    """
    campaign = template.campaign
    cap = settings.CLIPCAST_MAX_CLIPS_PER_BATCH
    if len(rows) > cap:
        raise ValidationError(f"This batch makes {len(rows):,} clips; the limit is {cap:,}.")
    resolved = render_params_for(campaign, params)
    validate_render_params(resolved)
    negative = campaign.negative_prompt
    prompts = [template.render(row) for row in rows]
    if any(not p.strip() for p in prompts):
        raise ValidationError("A rendered prompt is empty: give the template some text.")
    seeds = seeds_for(len(rows), SeedPolicy(seed_policy), seed)
    vocabulary = closed_vocabulary(resolved.get("model_key"))
    loras = campaign_loras(campaign, resolved.get("model_key"))
    # Only clips with LoRAs fingerprint them: the fingerprints of clips without any stay what they were.
    fingerprinted = {**resolved, "loras": loras} if loras else resolved

    planned: dict[str, Clip] = {}
    for row, prompt, clip_seed in zip(rows, prompts, seeds, strict=True):
        key = fingerprint(prompt, negative, fingerprinted, clip_seed)
        planned.setdefault(
            key,
            Clip(
                campaign=campaign, prompt_template=template, variables=row, prompt=prompt, negative_prompt=negative,
                render_params=resolved, seed=clip_seed, fingerprint=key, loras=loras,
                out_of_vocabulary=vocabulary.unknown([prompt]) if vocabulary is not None else [],
            ),
        )
    with transaction.atomic():
        existing = set(
            Clip.objects.filter(campaign=campaign, fingerprint__in=list(planned))
            .exclude(status__in=[ClipStatus.FAILED, ClipStatus.CANCELLED])
            .values_list("fingerprint", flat=True)
        )
        fresh = [clip for key, clip in planned.items() if key not in existing]
        quota_warnings = costs.check_quota(campaign.workspace_id, resolved, len(fresh))
        created = Clip.objects.bulk_create(fresh)
        audit.record_many("created", created, audit.created)
        ids = [clip.pk for clip in created]
        transaction.on_commit(lambda: enqueue_renders(ids))
    log.info("clips.created campaign=%s count=%s duplicates=%s", campaign.pk, len(created), len(rows) - len(created))
    return BatchResult(clips=created, duplicates=len(rows) - len(created),
                       warnings=warnings_for(resolved.get("model_key"), prompts) + quota_warnings)


RENDER_TASK = "generation.tasks.render_clip"


def enqueue_renders(clip_ids: list[int]) -> None:
    """Send one render message per clip, by task name: the task module imports this one, never the reverse, and
    the routes in settings put it on the gpu queue."""
    Clip.objects.filter(pk__in=clip_ids).update(enqueued_at=timezone.now())
    for clip_id in clip_ids:
        current_app.send_task(RENDER_TASK, args=[clip_id])


def cancel_clip(clip: Clip) -> bool:
    """A queued clip is cancelled at once; a rendering one is flagged and its worker stops at the next step."""
    now = timezone.now()
    with transaction.atomic():
        if Clip.objects.filter(pk=clip.pk, status=ClipStatus.QUEUED).update(
            status=ClipStatus.CANCELLED, finished_at=now, cancel_requested=True
        ):
            audit.record("cancelled", clip, {"status": [ClipStatus.QUEUED, ClipStatus.CANCELLED]})
            return True
        if Clip.objects.filter(pk=clip.pk, status=ClipStatus.RENDERING).update(cancel_requested=True):
            audit.record("cancelled", clip, {"cancel_requested": [False, True]})
            return True
    return False


def review_clip(clip: Clip, user, *, approve: bool) -> Clip:
    if clip.status != ClipStatus.SUCCEEDED:
        raise ValidationError("Only a clip that rendered successfully can be reviewed.")
    before = clip.review_status
    clip.review_status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
    clip.reviewed_by = user
    clip.reviewed_at = timezone.now()
    with transaction.atomic():
        clip.save(update_fields=["review_status", "reviewed_by", "reviewed_at"])
        audit.record("approved" if approve else "rejected", clip, {"review_status": [before, clip.review_status]},
                     actor=user)
        conversation.record_decision(clip, user, approve)
    return clip


def retry_clip(clip: Clip) -> bool:
    """Put a failed or cancelled clip back in the queue (same seed and settings, so the same frames).

    Raises ValidationError when the render would take the workspace over its monthly render quota."""
    with transaction.atomic():
        before = Clip.objects.filter(pk=clip.pk).values_list("status", flat=True).first()
        if before in (ClipStatus.FAILED, ClipStatus.CANCELLED):
            costs.check_quota(clip.campaign.workspace_id, clip.render_params, 1)
        updated = Clip.objects.filter(pk=clip.pk, status__in=[ClipStatus.FAILED, ClipStatus.CANCELLED]).update(
            status=ClipStatus.QUEUED, progress=0, stage="", error="", cancel_requested=False, attempts=0,
            started_at=None, finished_at=None, heartbeat_at=None, worker="",
        )
        if updated:
            audit.record("retried", clip, {"status": [before, ClipStatus.QUEUED]})
            transaction.on_commit(lambda: enqueue_renders([clip.pk]))
    return bool(updated)


def rerender_clip(clip: Clip) -> Clip | None:
    """Render a clip again: a failed or cancelled one is requeued in place (same seed and settings);
    a succeeded one gets a fresh copy with the same inputs, so the original, its review and its posts stay
    as they were (e.g. after a model update or a lost file). Returns the clip that will render, or None for
    a clip that is still queued or rendering."""
    if clip.status in (ClipStatus.FAILED, ClipStatus.CANCELLED):
        return clip if retry_clip(clip) else None
    if clip.status != ClipStatus.SUCCEEDED:
        return None
    with transaction.atomic():
        costs.check_quota(clip.campaign.workspace_id, clip.render_params, 1)
        copy = Clip.objects.create(
            campaign_id=clip.campaign_id, prompt_template_id=clip.prompt_template_id, variables=clip.variables,
            prompt=clip.prompt, negative_prompt=clip.negative_prompt, render_params=clip.render_params,
            seed=clip.seed, fingerprint=clip.fingerprint, out_of_vocabulary=clip.out_of_vocabulary, loras=clip.loras,
        )
        audit.record("created", copy, {**audit.created(copy), "rerender_of": [None, clip.pk]})
    transaction.on_commit(lambda: enqueue_renders([copy.pk]))
    log.info("clip.rerender source=%s copy=%s", clip.pk, copy.pk)
    return copy


def reap_stuck_clips(silence: timedelta | None = None, queue_age: timedelta | None = None) -> dict[str, int]:
    """Requeue renders whose worker stopped heart-beating (failing them after MAX_RENDER_ATTEMPTS), and send
    again the messages of clips queued for too long (a broker restart without persistence loses them)."""
    silence = silence or timedelta(seconds=settings.RENDER_STALE_AFTER)
    queue_age = queue_age or timedelta(seconds=settings.RENDER_REQUEUE_AFTER)
    resent = list(Clip.objects.lost_in_queue(queue_age).values_list("pk", flat=True)[:1000])
    if resent:
        enqueue_renders(resent)
        log.warning("clips.resent ids=%s", resent[:50])
    requeued, failed = [], 0
    for clip in Clip.objects.stuck(silence).only("pk", "attempts", "heartbeat_at", "worker"):
        still_stuck = Clip.objects.filter(pk=clip.pk, status=ClipStatus.RENDERING, heartbeat_at=clip.heartbeat_at)
        if clip.attempts >= MAX_RENDER_ATTEMPTS:
            error = (f"The render worker stopped responding {clip.attempts} times; retry the clip or check the "
                     "GPU workers.")
            with transaction.atomic():
                if still_stuck.update(status=ClipStatus.FAILED, finished_at=timezone.now(), error=error):
                    failed += 1
                    audit.record("failed", Clip.objects.select_related("campaign").get(pk=clip.pk),
                                 {"status": [ClipStatus.RENDERING, ClipStatus.FAILED], "error": [None, error]},
                                 actor=None)
        elif still_stuck.update(status=ClipStatus.QUEUED, stage="requeued", worker="", heartbeat_at=None):
            requeued.append(clip.pk)
    if requeued:
        transaction.on_commit(lambda: enqueue_renders(requeued))
    if requeued or failed:
        log.warning("clips.reaped requeued=%s failed=%s", requeued, failed)
    return {"requeued": len(requeued), "failed": failed, "resent": len(resent)}

