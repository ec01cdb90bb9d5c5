"""What every workspace-owned API resource shares: scoping to the caller's workspaces and role checks."""

from __future__ import annotations

from django.db import models
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from accounts.models import ROLE_RANK, Membership, Role, workspace_id_of


def role_in(user, workspace_id: int) -> Role | None:
    role = Membership.objects.filter(user=user, workspace_id=workspace_id).values_list("role", flat=True).first()
    return Role(role) if role else None


def require_role(user, workspace_id: int, role: Role) -> None:
    actual = role_in(user, workspace_id)
    if actual is None or ROLE_RANK[actual] < ROLE_RANK[role]:
        raise PermissionDenied(f"This needs the {role.label.lower()} role or higher in the workspace.")


class WorkspaceRolePermission(permissions.BasePermission):
    """Object access by role; objects of other workspaces never get here (their querysets hide them: 404)."""

    def has_object_permission(self, request, view, obj) -> bool:
        require_role(request.user, workspace_id_of(obj), view.required_role())
        return True


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key that only accepts objects of the caller's workspaces (others read as 'does not exist')."""

    def get_queryset(self):
        return super().get_queryset().visible_to(self.context["request"].user)


class WorkspaceScopedViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, WorkspaceRolePermission]
    #: Minimum role per action; reads default to viewer, everything else to editor.
    action_roles: dict[str, Role] = {}

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().visible_to(self.request.user)

    def required_role(self) -> Role:
        if self.action in self.action_roles:
            return self.action_roles[self.action]
        return Role.VIEWER if self.request.method in permissions.SAFE_METHODS else Role.EDITOR

    def workspace_id_for_create(self, validated_data: dict) -> int:
        for key in ("workspace", "campaign", "prompt_template", "clip", "x_account"):
            if key in validated_data:
                return workspace_id_of(validated_data[key])
        raise PermissionDenied("Cannot tell which workspace this belongs to.")

    def perform_create(self, serializer) -> None:
        require_role(self.request.user, self.workspace_id_for_create(serializer.validated_data), self.required_role())
        serializer.save()
