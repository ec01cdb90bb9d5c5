"""Workspaces (the tenant boundary) and the roles members hold in them."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.scoping import WorkspaceScopedQuerySet
from core.timezones import refusal


def validate_timezone(name: str) -> None:
    """Canonical IANA names only: no "localtime", "Factory" or old aliases (core/timezones.py says why)."""
    problem = refusal(name)
    if problem:
        raise ValidationError(problem)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    REVIEWER = "reviewer", "Reviewer"
    VIEWER = "viewer", "Viewer"


# What each role may do, from least to most: a higher role includes every lower one.
ROLE_RANK = {Role.VIEWER: 0, Role.REVIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}


class WorkspaceQuerySet(models.QuerySet):
    def for_user(self, user) -> WorkspaceQuerySet:
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(memberships__user=user)

    def visible_to(self, user) -> WorkspaceQuerySet:
        return self.for_user(user)


class Workspace(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # Set by a site admin only (Django admin): members cannot raise their own limit. Empty means no limit.
    monthly_render_quota_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Render device seconds this workspace may use per calendar month (UTC); "
        "empty for no limit. A batch that would go over it is refused.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def role_of(self, user) -> str | None:
        if not getattr(user, "is_authenticated", False):
            return None
        membership = self.memberships.filter(user=user).only("role").first()
        return membership.role if membership else None


class MembershipQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "workspace"

    def with_role_at_least(self, role: str) -> MembershipQuerySet:
        allowed = [r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK[Role(role)]]
        return self.filter(role__in=allowed)


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["workspace", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "workspace"], name="unique_membership_per_workspace")]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]

    def is_last_owner(self) -> bool:
        """Demoting or removing this membership would leave its workspace with nobody to manage it."""
        if self.role != Role.OWNER:
            return False
        return not Membership.objects.filter(workspace_id=self.workspace_id, role=Role.OWNER).exclude(
            pk=self.pk
        ).exists()


def workspace_id_of(obj: models.Model) -> int:
    """The id of the workspace an object belongs to, following its queryset's workspace_path."""
    if isinstance(obj, Workspace):
        return obj.pk
    path = type(obj)._default_manager.get_queryset().workspace_path.split("__")
    target = obj
    for step in path[:-1]:
        target = getattr(target, step)
    return getattr(target, f"{path[-1]}_id")


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"  # never stored: a pending invitation past its expiry reads as this


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "workspace"

    def managed_by(self, user) -> InvitationQuerySet:
        """Invitations of the workspaces where `user` is an owner (the only ones who invite)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        owned = Membership.objects.filter(user=user, role=Role.OWNER).values("workspace_id")
        return self.filter(workspace_id__in=owned)

    def pending(self, now: datetime | None = None) -> InvitationQuerySet:
        return self.filter(status=InvitationStatus.PENDING, expires_at__gt=now or timezone.now())

    def addressed_to(self, user) -> InvitationQuerySet:
        """Invitations for `user`: matched to the account when sent, or sent to its email address since."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        mine = Q(user=user)
        if user.email:
            mine |= Q(user__isnull=True, email__iexact=user.email)
        return self.filter(mine)

    def with_token(self, token: str) -> InvitationQuerySet:
        return self.filter(token_hash=hash_token(token))


class Invitation(models.Model):
    """An owner's offer of a role in a workspace; the membership exists only once the invitee accepts."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    #: What the inviter typed (a username or an email address): the inviter never learns whether it matched.
    invitee = models.CharField(max_length=254)
    email = models.EmailField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    status = models.CharField(max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "status"], name="invitation_workspace_status")]

    def __str__(self) -> str:
        return f"{self.invitee} to {self.workspace} ({self.role})"

    @property
    def current_status(self) -> str:
        if self.status == InvitationStatus.PENDING and self.expires_at <= timezone.now():
            return InvitationStatus.EXPIRED
        return self.status

    def get_current_status_display(self) -> str:
        return InvitationStatus(self.current_status).label


class AuditEventQuerySet(WorkspaceScopedQuerySet):
    """The log only grows: rows are never changed or removed through the ORM (a workspace's deletion takes its
    log with it, by the database's cascade)."""

    workspace_path = "workspace"

    def update(self, **kwargs):
        raise TypeError("Audit events are append-only: they cannot be updated.")

    def delete(self):
        raise TypeError("Audit events are append-only: they cannot be deleted.")


class AuditEvent(models.Model):
    """One change to a workspace's objects: who did what to which object, when, and the fields it changed.

    Written by `accounts.audit.record` in the transaction of the change it records; `changes` maps a field to
    [before, after], with secrets (tokens, passwords, keys, encrypted fields) redacted.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who made the change; empty for the system (scheduled posting, render workers).",
    )
    #: The actor's username when the change was made ("system" for background work): kept if the user goes.
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=100, help_text="app_label.model, e.g. publishing.post.")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    changes = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-at"], name="audit_workspace_at"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} {self.object_type} {self.object_id} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise TypeError("Audit events are append-only: an event cannot be changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are append-only: they cannot be deleted.")


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a member should look at (a comment on a clip, ...), shown in the dashboard until read."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="notifications")
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True, help_text="Where in the dashboard to look.")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread_idx")]

    def __str__(self) -> str:
        return self.message
