"""Workspaces (the tenant boundary) and the roles members hold in them."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from accounts.scoping import WorkspaceScopedQuerySet


def validate_timezone(name: str) -> None:
    if name not in zoneinfo.available_timezones():
        raise ValidationError(
            f"{name!r} is not a known IANA time zone (for example Europe/Berlin or America/New_York)."
        )


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
