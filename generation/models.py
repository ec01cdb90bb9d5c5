"""A Clip is one render of a prompt: its inputs, its progress, its files and its provenance."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.scoping import WorkspaceScopedQuerySet
from campaigns.models import Campaign, PromptTemplate
from generation.media import media_url


class ClipStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RENDERING = "rendering", "Rendering"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ClipQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "campaign__workspace"

    def active(self) -> ClipQuerySet:
        return self.filter(status__in=[ClipStatus.QUEUED, ClipStatus.RENDERING])

    def approved(self) -> ClipQuerySet:
        return self.filter(status=ClipStatus.SUCCEEDED, review_status=ReviewStatus.APPROVED)

    def lost_in_queue(self, age: timedelta, now=None) -> ClipQuerySet:
        """Queued clips whose render message was sent more than `age` ago (or never): it may have been lost."""
        now = now or timezone.now()
        return self.filter(status=ClipStatus.QUEUED).filter(
            models.Q(enqueued_at__lt=now - age) | models.Q(enqueued_at__isnull=True, created_at__lt=now - age)
        )

    def stuck(self, silence: timedelta, now=None) -> ClipQuerySet:
        """Rendering clips whose worker has not written a heartbeat for `silence`."""
        now = now or timezone.now()
        return self.filter(status=ClipStatus.RENDERING, heartbeat_at__lt=now - silence)


def new_media_key() -> str:
    return secrets.token_hex(16)


def clip_upload_to(instance: Clip, filename: str) -> str:
    """clips/<campaign>/<clip>-<128 random bits>/<name>: ids alone must not be enough to find a clip's files."""
    return f"clips/{instance.campaign_id}/{instance.pk}-{instance.media_key}/{filename}"


class Clip(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="clips")
    prompt_template = models.ForeignKey(
        PromptTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="clips"
    )
    variables = models.JSONField(default=dict, blank=True)
    prompt = models.TextField()
    negative_prompt = models.TextField(blank=True)
    render_params = models.JSONField(default=dict, blank=True)
    seed = models.BigIntegerField()
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)

    status = models.CharField(max_length=16, choices=ClipStatus.choices, default=ClipStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)

    # The unguessable part of this clip's storage keys (see clip_upload_to); stable across render attempts.
    media_key = models.CharField(max_length=32, default=new_media_key, editable=False)
    video = models.FileField(upload_to=clip_upload_to, blank=True, max_length=300)
    gif = models.FileField(upload_to=clip_upload_to, blank=True, max_length=300)
    poster = models.FileField(upload_to=clip_upload_to, blank=True, max_length=300)
    duration_s = models.FloatField(null=True, blank=True)

    # Provenance: enough to tell how, where and with what this clip was made.
    timings = models.JSONField(default=dict, blank=True)
    device = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    model_id = models.CharField(max_length=255, blank=True)
    weights_hash = models.CharField(max_length=64, blank=True)
    # SHA-256 of the rendered frames before encoding: the proof that a seed reproduces a clip (x264 itself is not
    # bit-for-bit repeatable under CPU contention, so the MP4 bytes cannot be).
    frames_hash = models.CharField(max_length=64, blank=True)
    versions = models.JSONField(default=dict, blank=True)
    # A clip longer than the model's native window: how the engine windowed it (mode, windows, length, noise).
    windowing = models.JSONField(null=True, blank=True)
    # Prompt words the clip's model was never trained on (closed-vocabulary models only), found before rendering:
    # such a clip renders and may succeed, but does not show what those words say.
    out_of_vocabulary = models.JSONField(default=list, blank=True)

    review_status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="reviewed_clips"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ClipQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Every list (API, gallery) shows the newest first: a page is an index range, not a sort of all rows.
            models.Index(fields=["-created_at", "-id"], name="clip_newest_first_idx"),
            models.Index(fields=["campaign", "status"], name="clip_campaign_status_idx"),
            models.Index(fields=["status", "heartbeat_at"], name="clip_status_heartbeat_idx"),
            models.Index(fields=["status", "enqueued_at"], name="clip_status_enqueued_idx"),
            models.Index(fields=["campaign", "review_status"], name="clip_campaign_review_idx"),
        ]

    def __str__(self) -> str:
        return f"Clip {self.pk}: {self.prompt[:60]}"

    def why_not_schedulable(self) -> str | None:
        """Why this clip cannot be scheduled yet (a message for the marketer), or None when it can."""
        if self.status != ClipStatus.SUCCEEDED:
            return "Only a clip that rendered successfully can be posted."
        if self.campaign.approval_required and self.review_status != ReviewStatus.APPROVED:
            return "This campaign requires approval: approve the clip before scheduling it."
        return None

    @property
    def can_be_scheduled(self) -> bool:
        return self.why_not_schedulable() is None

    # Where a member fetches each file (the member-only view, or a presigned URL): for pages already scoped to
    # the viewer's workspaces. Never `<field>.url`: that would be a public address.
    @property
    def video_url(self) -> str | None:
        return media_url(self, "video")

    @property
    def gif_url(self) -> str | None:
        return media_url(self, "gif")

    @property
    def poster_url(self) -> str | None:
        return media_url(self, "poster")
