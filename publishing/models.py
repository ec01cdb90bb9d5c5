"""X accounts a workspace posts with, and the posts scheduled for them."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Workspace
from accounts.scoping import WorkspaceScopedQuerySet
from campaigns.models import Campaign, PromptTemplate
from core.fields import EncryptedTextField
from generation.models import Clip


class AuthKind(models.TextChoices):
    OAUTH1 = "oauth1", "OAuth 1.0a user context"
    OAUTH2 = "oauth2", "OAuth 2.0 user token"


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
    DISABLED = "disabled", "Disabled"


class XAccountQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "workspace"


class XAccount(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="x_accounts")
    handle = models.CharField(max_length=50)
    x_user_id = models.CharField(max_length=32, blank=True)
    auth_kind = models.CharField(max_length=8, choices=AuthKind.choices, default=AuthKind.OAUTH2)
    # Tokens are encrypted at rest and never shown in the admin, the API or logs.
    access_token = EncryptedTextField(blank=True)
    access_token_secret = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    status_reason = models.CharField(max_length=300, blank=True)
    # Posting policy: posts of one account are spaced by at least min_post_gap (after downtime too, so overdue
    # posts never go out in a burst), and a post later than max_lateness is skipped rather than posted.
    min_post_gap = models.DurationField(default=timedelta(minutes=1))
    max_lateness = models.DurationField(default=timedelta(hours=6))
    last_post_started_at = models.DateTimeField(null=True, blank=True)
    # A paused queue keeps its posts scheduled, but the dispatcher sends none of them until it is resumed.
    queue_paused = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = XAccountQuerySet.as_manager()

    class Meta:
        ordering = ["workspace", "handle"]
        constraints = [models.UniqueConstraint(fields=["workspace", "handle"], name="unique_handle_per_workspace")]

    def __str__(self) -> str:
        return f"@{self.handle}"

    # Every way an account gets credentials (connect, reconnect, new OAuth 1.0a tokens, a refresh) goes through
    # these two, so the kind, the tokens, the expiry and the status always change together.
    def set_oauth1_tokens(self, access_token: str, access_token_secret: str) -> list[str]:
        """Store a user's OAuth 1.0a token pair (they do not expire); returns the fields to save."""
        return self._set_credentials(AuthKind.OAUTH1, access_token, access_token_secret, "", None)

    def set_oauth2_token(self, access_token: str, refresh_token: str, expires_at: datetime | None) -> list[str]:
        """Store an OAuth 2.0 access token and its refresh token; returns the fields to save."""
        return self._set_credentials(AuthKind.OAUTH2, access_token, "", refresh_token, expires_at)

    def _set_credentials(self, kind: str, access_token: str, access_token_secret: str, refresh_token: str,
                         expires_at: datetime | None) -> list[str]:
        self.auth_kind = kind
        self.access_token, self.access_token_secret, self.refresh_token = access_token, access_token_secret, (
            refresh_token
        )
        self.token_expires_at = expires_at
        self.status, self.status_reason = AccountStatus.ACTIVE, ""
        return ["auth_kind", "access_token", "access_token_secret", "refresh_token", "token_expires_at", "status",
                "status_reason", "updated_at"]


class PostStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    UPLOADING = "uploading", "Uploading"
    PROCESSING = "processing", "Processing"
    POSTING = "posting", "Posting"
    POSTED = "posted", "Posted"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


IN_FLIGHT_STATUSES = (PostStatus.UPLOADING, PostStatus.PROCESSING, PostStatus.POSTING)


class PostQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "x_account__workspace"

    def due(self, now=None) -> PostQuerySet:
        now = now or timezone.now()
        return self.filter(status=PostStatus.SCHEDULED, scheduled_at__lte=now)

    def dispatchable(self, now=None) -> PostQuerySet:
        """Due posts whose account's queue is not paused: what the dispatcher may claim."""
        return self.due(now).filter(x_account__queue_paused=False)

    def upcoming(self, now=None) -> PostQuerySet:
        """Scheduled posts not yet due, soonest first: an account's queue."""
        now = now or timezone.now()
        return self.filter(status=PostStatus.SCHEDULED, scheduled_at__gt=now).order_by("scheduled_at", "pk")

    def in_flight(self) -> PostQuerySet:
        return self.filter(status__in=IN_FLIGHT_STATUSES)

    def same_caption(self, account_id: int, caption: str) -> PostQuerySet:
        """Posts of the account with exactly this (normalised) caption that are on X or on their way there."""
        return self.filter(x_account_id=account_id, caption=caption).exclude(
            status__in=[PostStatus.FAILED, PostStatus.CANCELLED])


class Post(models.Model):
    clip = models.ForeignKey(Clip, on_delete=models.PROTECT, related_name="posts")
    x_account = models.ForeignKey(XAccount, on_delete=models.PROTECT, related_name="posts")
    caption = models.TextField(max_length=4000)
    scheduled_at = models.DateTimeField(help_text="Aware UTC instant.")
    status = models.CharField(max_length=16, choices=PostStatus.choices, default=PostStatus.SCHEDULED)
    attempts = models.PositiveSmallIntegerField(default=0)
    media_id = models.CharField(max_length=64, blank=True)
    x_post_id = models.CharField(max_length=64, blank=True)
    x_post_url = models.URLField(blank=True)
    last_error = models.TextField(blank=True)
    # The stage a failed post stopped in: one that failed while `posting` may be on X already, so a retry looks
    # there before it uploads and creates again.
    failed_in = models.CharField(max_length=16, choices=PostStatus.choices, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    metrics_at = models.DateTimeField(null=True, blank=True)
    experiment = models.ForeignKey("Experiment", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="posts")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_at", "id"]
        indexes = [
            # The dispatcher's query: status = scheduled AND scheduled_at <= now, oldest first.
            models.Index(fields=["status", "scheduled_at"], name="post_status_scheduled_idx"),
            models.Index(fields=["x_account", "status"], name="post_account_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Post {self.pk} ({self.status}) at {self.scheduled_at:%Y-%m-%d %H:%M} UTC"


def variables_label(variables: dict) -> str:
    """A grid point as people read it: name=value pairs in name order."""
    return ", ".join(f"{name}={value}" for name, value in sorted(variables.items()))


class ExperimentStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DECIDED = "decided", "Winner declared"
    STOPPED = "stopped", "Stopped"


class ExperimentQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "campaign__workspace"


class Experiment(models.Model):
    """A prompt template's grid posted as variants in rotation on one account, until the metrics pick a winner."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="experiments")
    prompt_template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="experiments")
    x_account = models.ForeignKey(XAccount, on_delete=models.PROTECT, related_name="experiments")
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=16, choices=ExperimentStatus.choices, default=ExperimentStatus.RUNNING)
    # The stop rule: whichever comes first once every variant has a posted post.
    min_impressions = models.PositiveIntegerField(
        default=1000, help_text="Decide once every variant's posts have at least this many impressions.")
    decide_at = models.DateTimeField(null=True, blank=True, help_text="Or decide at this time, whatever the counts.")
    winner = models.ForeignKey(Clip, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    winner_variables = models.JSONField(default=dict, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ExperimentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "prompt_template", condition=models.Q(status="running"), name="one_running_experiment_per_template",
                violation_error_message="This prompt template already has a running experiment.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def winner_label(self) -> str:
        return variables_label(self.winner_variables or {})

    @property
    def confidence_text(self) -> str:
        """The winner's chance of being best as people read it: 20,000 draws cannot tell 99.99% from certain."""
        if self.confidence is None:
            return ""
        return "over 99.9%" if self.confidence > 0.999 else f"{self.confidence:.1%}"
