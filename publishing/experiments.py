"""A/B experiments: a prompt template's grid posted as variants in rotation into the campaign's slots, until the
metrics read back from X pick a winner; then the slots go to the winner's neighbours in the grid.

How the winner is picked: each variant's engagement rate (likes + replies + reposts + quotes over impressions,
summed over its posted posts) gets a Beta(1 + engagements, 1 + impressions - engagements) posterior, the
Beta-binomial model with a uniform prior. The confidence of a variant is the probability that its true rate is the
highest of all variants, estimated from 20,000 joint draws of the posteriors with a fixed seed (so the same counts
always give the same answer). The variant with the highest probability wins, with that probability as its
confidence.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import audit
from campaigns.models import CampaignStatus, PromptTemplate
from generation.models import Clip, ClipStatus
from generation.services import create_clips
from publishing.metrics import engagements_of
from publishing.models import (
    AccountStatus,
    Experiment,
    ExperimentStatus,
    Post,
    PostStatus,
    XAccount,
    variables_label,
)
from publishing.services import add_to_queue, caption_for

log = logging.getLogger(__name__)

DRAWS = 20_000
MAX_FILL = 50


def variant_key(variables: dict) -> str:
    return json.dumps(variables or {}, sort_keys=True)


@dataclass
class Variant:
    variables: dict
    clips: list[Clip] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    probability_best: float | None = None

    @property
    def key(self) -> str:
        return variant_key(self.variables)

    @property
    def label(self) -> str:
        return variables_label(self.variables) or "(no variables)"

    @property
    def posted(self) -> list[Post]:
        return [p for p in self.posts if p.status == PostStatus.POSTED and p.metrics]

    @property
    def impressions(self) -> int:
        return sum(int(p.metrics.get("impression_count", 0)) for p in self.posted)

    @property
    def engagements(self) -> int:
        total = sum(engagements_of(p.metrics) for p in self.posted)
        return min(total, self.impressions)

    @property
    def rate(self) -> float | None:
        return self.engagements / self.impressions if self.impressions else None

    @property
    def live_posts(self) -> int:
        return sum(1 for p in self.posts if p.status not in (PostStatus.CANCELLED, PostStatus.FAILED))


def probability_best(counts: list[tuple[int, int]], draws: int = DRAWS, seed: int = 0) -> list[float]:
    """For (engagements, impressions) per variant: the probability that each has the highest true rate."""
    if not counts:
        return []
    rng = np.random.default_rng(seed)
    samples = np.stack([rng.beta(1 + e, 1 + max(0, i - e), size=draws) for e, i in counts])
    wins = np.bincount(samples.argmax(axis=0), minlength=len(counts))
    return [float(w) / draws for w in wins]


def approved_clips(template: PromptTemplate) -> list[Clip]:
    """The template's rendered clips that may be posted (approved, where the campaign requires it). A clip still
    queued or rendering may be scheduled on its own, but it is no variant: nobody has seen it yet."""
    rendered = Clip.objects.filter(prompt_template=template, status=ClipStatus.SUCCEEDED).order_by("pk")
    return [clip for clip in rendered.select_related("campaign") if clip.can_be_scheduled]


def variants_of(experiment: Experiment, chances: bool = True) -> list[Variant]:
    """The experiment's variants (the template's approved clips by variable values, and any variant it posted),
    with their posts and (with `chances`) each one's probability of being best."""
    by_key: dict[str, Variant] = {}
    for clip in approved_clips(experiment.prompt_template):
        by_key.setdefault(variant_key(clip.variables), Variant(dict(clip.variables))).clips.append(clip)
    for post in experiment.posts.select_related("clip").order_by("scheduled_at", "pk"):
        by_key.setdefault(variant_key(post.clip.variables), Variant(dict(post.clip.variables))).posts.append(post)
    variants = list(by_key.values())
    if not chances:
        return variants
    for variant, chance in zip(variants, probability_best([(v.engagements, v.impressions) for v in variants]),
                               strict=True):
        variant.probability_best = chance
    return variants


def neighbours(template: PromptTemplate, variables: dict) -> list[dict]:
    """The grid points next to `variables`: one variable moved to the value before or after it in its list."""
    found = []
    declared = template.variables or {}
    for name, value in sorted(variables.items()):
        values = declared.get(name) or []
        if value not in values:
            continue
        at = values.index(value)
        for step in (-1, 1):
            if 0 <= at + step < len(values):
                found.append({**variables, name: values[at + step]})
    return found


@transaction.atomic
def start_experiment(template: PromptTemplate, account: XAccount, *, name: str = "", min_impressions: int = 1000,
                     decide_at: datetime | None = None, user=None) -> Experiment:
    if account.workspace_id != template.campaign.workspace_id:
        raise ValidationError("That X account belongs to another workspace.")
    if template.campaign.status == CampaignStatus.ARCHIVED:
        raise ValidationError(f"“{template.campaign.name}” is archived: make it active again (Edit) to start an "
                              "experiment in it.")
    if account.status != AccountStatus.ACTIVE:
        raise ValidationError(f"@{account.handle} needs attention ({account.get_status_display()}): reconnect it.")
    kinds = {variant_key(c.variables) for c in approved_clips(template)}
    if len(kinds) < 2:
        raise ValidationError(
            f"An experiment needs approved clips of at least two variants of “{template.name}”; it has "
            f"{len(kinds)}. Generate the grid and approve the clips first.")
    if not template.campaign.posting_slots.exists():
        raise ValidationError("This campaign has no posting slots: add some, the experiment posts into them.")
    if min_impressions < 1:
        raise ValidationError("The impressions to wait for must be at least 1.")
    if decide_at is not None and decide_at <= timezone.now():
        raise ValidationError("The time to decide by is in the past: pick a time in the future.")
    experiment = Experiment(
        campaign=template.campaign, prompt_template=template, x_account=account,
        name=name.strip() or f"{template.name} experiment", min_impressions=min_impressions, decide_at=decide_at,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    try:
        with transaction.atomic():
            experiment.save()
    except IntegrityError as exc:
        raise ValidationError(f"“{template.name}” already has a running experiment: stop it or wait for its "
                              "winner.") from exc
    audit.record("created", experiment, audit.created(experiment))
    log.info("experiment.started experiment=%s template=%s variants=%s", experiment.pk, template.pk, len(kinds))
    return experiment


def _captions(experiment: Experiment) -> list:
    """Caption templates in a fixed order; the n-th post of a variant takes the n-th, because X refuses the same
    text twice on one account."""
    return list(experiment.campaign.caption_templates.order_by("name", "pk")) or [None]


def _pool(experiment: Experiment, variants: list[Variant]) -> list[Variant]:
    """The variants with a clip to post: all of them, or once decided the winner's neighbours (else the winner)."""
    if experiment.status == ExperimentStatus.DECIDED:
        near = {variant_key(v) for v in neighbours(experiment.prompt_template, experiment.winner_variables)}
        return [v for v in variants if v.key in near and v.clips] or [
            v for v in variants if v.key == variant_key(experiment.winner_variables) and v.clips]
    return [v for v in variants if v.clips]


def _next_post(experiment: Experiment, variants: list[Variant]) -> tuple[Clip, str] | None:
    pool = _pool(experiment, variants)
    captions = _captions(experiment)
    used = set(Post.objects.filter(x_account=experiment.x_account).exclude(
        status__in=[PostStatus.CANCELLED, PostStatus.FAILED]).values_list("caption", flat=True))
    for variant in sorted(pool, key=lambda v: v.live_posts):
        clip = variant.clips[variant.live_posts % len(variant.clips)]
        for template in captions[variant.live_posts % len(captions):] + captions[:variant.live_posts % len(captions)]:
            caption = caption_for(clip, template)
            if caption not in used:
                return clip, caption
    return None


def fill_slots(experiment: Experiment, count: int, now: datetime | None = None) -> list[Post]:
    """Schedule the next `count` free slots of the campaign on the experiment's account, variants in rotation
    (the one with the fewest posts first); after a winner, its neighbours in the grid (or the winner itself)."""
    if experiment.status == ExperimentStatus.STOPPED:
        raise ValidationError("This experiment is stopped: start a new one to post more variants.")
    if not 1 <= count <= MAX_FILL:
        raise ValidationError(f"Fill between 1 and {MAX_FILL} slots at a time.")
    posts = []
    for _ in range(count):
        variants = variants_of(experiment, chances=False)
        picked = _next_post(experiment, variants)
        if picked is None:
            if posts:
                break
            if not _pool(experiment, variants):
                raise ValidationError("No variant has a rendered, approved clip left to post: approve clips of "
                                      f"“{experiment.prompt_template.name}” (once decided, of the winner or its "
                                      "neighbours).")
            raise ValidationError("Every variant has used every caption template on this account, and X refuses "
                                  "the same text twice: add a caption template to the campaign.")
        clip, caption = picked
        with transaction.atomic():
            post = add_to_queue(clip, experiment.x_account, caption, now=now)
            post.experiment = experiment
            post.save(update_fields=["experiment", "updated_at"])
        posts.append(post)
    log.info("experiment.filled experiment=%s posts=%s", experiment.pk, [p.pk for p in posts])
    return posts


def every_variant_measured(variants: list[Variant]) -> bool:
    return len(variants) >= 2 and all(v.posted for v in variants)


def ready_to_decide(experiment: Experiment, variants: list[Variant], now: datetime) -> bool:
    if experiment.status != ExperimentStatus.RUNNING or not every_variant_measured(variants):
        return False
    if experiment.decide_at is not None and now >= experiment.decide_at:
        return True
    return all(v.impressions >= experiment.min_impressions for v in variants)


def evaluate(experiment: Experiment, now: datetime | None = None, *, force: bool = False) -> bool:
    """Declare the winner when the stop rule holds (or now, when forced and every variant has posted metrics).
    Returns whether a winner was declared."""
    now = now or timezone.now()
    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
        variants = [v for v in variants_of(experiment) if v.posts or v.clips]
        if experiment.status != ExperimentStatus.RUNNING:
            return False
        if not (ready_to_decide(experiment, variants, now) or (force and every_variant_measured(variants))):
            return False
        best = max(variants, key=lambda v: (v.probability_best or 0.0, v.rate or 0.0))
        clip = best.clips[0] if best.clips else best.posts[0].clip
        experiment.status = ExperimentStatus.DECIDED
        experiment.winner, experiment.winner_variables = clip, best.variables
        experiment.confidence, experiment.decided_at = best.probability_best, now
        experiment.save(update_fields=["status", "winner", "winner_variables", "confidence", "decided_at"])
        audit.record("decided", experiment, {"status": [ExperimentStatus.RUNNING, ExperimentStatus.DECIDED],
                                             "winner_variables": [{}, best.variables],
                                             "confidence": [None, best.probability_best]})
    log.info("experiment.decided experiment=%s winner=%s confidence=%.3f", experiment.pk, best.key,
             experiment.confidence or 0.0)
    explore_neighbours(experiment)
    return True


def why_not_decidable(experiment: Experiment, variants: list[Variant] | None = None) -> str | None:
    """Which variants still lack metrics (`variants` when the caller has them already)."""
    if variants is None:
        variants = variants_of(experiment, chances=False)
    waiting = [v.label for v in variants if not v.posted]
    if waiting:
        return f"No metrics yet for: {'; '.join(waiting)}. Post every variant first."
    return None


def explore_neighbours(experiment: Experiment) -> int:
    """Render the winner's neighbours that have no clip yet (they go through review like any clip)."""
    template = experiment.prompt_template
    have = {variant_key(c.variables) for c in Clip.objects.filter(prompt_template=template).exclude(
        status__in=["failed", "cancelled"])}
    rows = [n for n in neighbours(template, experiment.winner_variables) if variant_key(n) not in have]
    if not rows:
        return 0
    try:
        result = create_clips(template, rows)
    except ValidationError as exc:
        log.warning("experiment.neighbours_refused experiment=%s reason=%s", experiment.pk, exc.messages)
        return 0
    return len(result.clips)


@transaction.atomic
def stop(experiment: Experiment) -> bool:
    """Stop without a winner; the experiment's scheduled posts stay (cancel them from the queue if unwanted)."""
    stopped = bool(Experiment.objects.filter(pk=experiment.pk, status=ExperimentStatus.RUNNING).update(
        status=ExperimentStatus.STOPPED))
    if stopped:
        audit.record("stopped", experiment, {"status": [ExperimentStatus.RUNNING, ExperimentStatus.STOPPED]})
    return stopped


def evaluate_running(now: datetime | None = None) -> int:
    """After each metrics refresh: decide every running experiment whose stop rule holds."""
    decided = 0
    for experiment in Experiment.objects.filter(status=ExperimentStatus.RUNNING):
        decided += evaluate(experiment, now)
    return decided
