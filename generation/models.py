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

    def with_post_due_at(self) -> ClipQuerySet:
        """Annotate `post_due_at`: the earliest time a post still waiting to go out needs this clip (or None).

        Posts live in `publishing`, a layer above this one, so they are reached through the reverse relation and
        the stored value of PostStatus.SCHEDULED rather than an import."""
        earliest = (Clip.objects.filter(pk=models.OuterRef("pk"), posts__status="scheduled")
                    .order_by("posts__scheduled_at").values("posts__scheduled_at")[:1])
        return self.annotate(post_due_at=models.Subquery(earliest, output_field=models.DateTimeField()))

    def in_render_order(self) -> ClipQuerySet:
        """Queued clips in the order render workers take them: the clip whose post is due soonest first, then the
        rest first come, first served. "First come" is when the clip was made, not `enqueued_at`: the reaper
        re-sends the message of a clip that waits long behind a backlog, and that must not send it to the back."""
        return self.filter(status=ClipStatus.QUEUED, cancel_requested=False).with_post_due_at().order_by(
            models.F("post_due_at").asc(nulls_last=True), "created_at", "pk")

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
    # Device time the render held its worker (denoise + decode + export), what a workspace's render quota counts.
    gpu_seconds = models.FloatField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    model_id = models.CharField(max_length=255, blank=True)
    weights_hash = models.CharField(max_length=64, blank=True)
    # SHA-256 of the rendered frames before encoding: the proof that a seed reproduces a clip (x264 itself is not
    # bit-for-bit repeatable under CPU contention, so the MP4 bytes cannot be).
    frames_hash = models.CharField(max_length=64, blank=True)
    versions = models.JSONField(default=dict, blank=True)
    # The GPU performance settings in effect (attention backend, compile, offload, fp8/quantization, VAE savers).
    performance = models.JSONField(default=dict, blank=True)
    # A clip longer than the model's native window: how the engine windowed it (mode, windows, length, noise).
    windowing = models.JSONField(null=True, blank=True)
    # Prompt words the clip's model was never trained on (closed-vocabulary models only), found before rendering:
    # such a clip renders and may succeed, but does not show what those words say.
    out_of_vocabulary = models.JSONField(default=list, blank=True)
    # What the model made of the asked-for length: {"frames_requested", "frames_rendered", "notes"}. Families
    # with a temporal VAE render only 4k+1 (or 8k+1) frames, so 24 asked for becomes 25, said in `notes`.
    frames_note = models.JSONField(default=dict, blank=True)
    # The campaign's LoRAs when the clip was made ([{name, sha256, weight}]): what the worker applies and what
    # the clip's provenance shows. Part of the fingerprint, so the same seed with and without them are two clips.
    loras = models.JSONField(default=list, blank=True)

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
            # Render estimates read the latest measured renders (generation.costs.Estimator).
            models.Index(fields=["-finished_at"], name="clip_rendered_recent_idx",
                         condition=models.Q(status="succeeded", gpu_seconds__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"Clip {self.pk}: {self.prompt[:60]}"

    def why_not_schedulable(self) -> str | None:
        """Why this clip cannot be scheduled yet (a message for the marketer), or None when it can.

        A clip still queued or rendering can be scheduled: its post waits for it (and renders first, see
        ClipQuerySet.in_render_order). It is reviewed once rendered, and `why_not_postable` holds the post back until
        then. A rendered clip is judged as it stands: a campaign that requires approval wants it approved first."""
        if self.status in (ClipStatus.QUEUED, ClipStatus.RENDERING) and not self.cancel_requested:
            return None
        return self.why_not_postable(scheduling=True)

    def why_not_postable(self, scheduling: bool = False) -> str | None:
        """Why a post of this clip cannot go out now (a message for the marketer), or None when it can."""
        if self.status in (ClipStatus.QUEUED, ClipStatus.RENDERING) and not self.cancel_requested:
            return f"Its clip is still {self.get_status_display().lower()}."
        if self.status != ClipStatus.SUCCEEDED:
            return "Only a clip that rendered successfully, or is still queued or rendering, can be posted."
        if self.campaign.approval_required and self.review_status != ReviewStatus.APPROVED:
            if scheduling:
                return "This campaign requires approval: approve the clip before scheduling it."
            return "This campaign requires approval and its clip is not approved: approve the clip, then retry."
        return None

    @property
    def can_wait_to_be_postable(self) -> bool:
        """Whether time alone can make this clip postable: a render to finish, or a review still to come."""
        if self.status in (ClipStatus.QUEUED, ClipStatus.RENDERING):
            return not self.cancel_requested
        return (self.status == ClipStatus.SUCCEEDED and self.campaign.approval_required
                and self.review_status == ReviewStatus.PENDING)

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


class NoteKind(models.TextChoices):
    COMMENT = "comment", "Comment"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ClipNoteQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "clip__campaign__workspace"


class ClipNote(models.Model):
    """The review conversation of a clip: comments, and each approval or rejection, in order."""

    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    kind = models.CharField(max_length=16, choices=NoteKind.choices, default=NoteKind.COMMENT)
    body = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClipNoteQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on clip {self.clip_id}"


class BrandLoraQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "workspace"


def lora_upload_to(instance: BrandLora, filename: str) -> str:
    """loras/<workspace>/<sha256>-<128 random bits>.safetensors: never guessable, never the uploader's filename."""
    return f"loras/{instance.workspace_id}/{instance.sha256}-{secrets.token_hex(16)}.safetensors"


class BrandLora(models.Model):
    """A LoRA a workspace uploaded for one model, checked against that model's keys before it was accepted. The
    file lives in media storage (a bucket in production), so a render worker on any host can fetch it."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="brand_loras")
    name = models.CharField(max_length=120)
    model_key = models.CharField(max_length=64, help_text="The model it was checked against and is for.")
    file = models.FileField(upload_to=lora_upload_to, max_length=300)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="brand_loras"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BrandLoraQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "brand LoRA"
        constraints = [
            models.UniqueConstraint(fields=["workspace", "sha256"], name="brand_lora_unique_file_per_workspace"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.model_key})"

    def delete_file(self) -> None:
        if self.file.name:
            self.file.storage.delete(self.file.name)


class CampaignLoraQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "campaign__workspace"


class CampaignLora(models.Model):
    """A campaign renders with this LoRA at this weight (both in the same workspace)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="lora_links")
    lora = models.ForeignKey(BrandLora, on_delete=models.CASCADE, related_name="campaign_links")
    weight = models.FloatField(default=1.0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CampaignLoraQuerySet.as_manager()

    class Meta:
        ordering = ["campaign", "id"]
        verbose_name = "campaign LoRA"
        constraints = [models.UniqueConstraint(fields=["campaign", "lora"], name="campaign_lora_unique")]

    def __str__(self) -> str:
        return f"{self.lora.name} at {self.weight:g} on {self.campaign}"

    def record(self) -> dict:
        """What a clip records of it: enough to find the file again and to say what was applied."""
        return {"name": self.lora.name, "sha256": self.lora.sha256, "weight": self.weight}
