"""What every workspace-owned API resource shares: scoping to the caller's workspaces and role checks."""

from __future__ import annotations

from django.db import models
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from accounts.audit import audited_delete, audited_save
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


FIXED_HELP = (
    "Chosen on create (you need the editor role there, the owner role for memberships); fixed afterwards: "
    "an update naming a different one is refused with 400."
)


class FixedOnUpdateMixin:
    """A relation chosen on create and fixed afterwards: tenant moves are refused here, once for every serializer.

    On an update the value may be repeated (a PUT of the whole object), never changed. The role check of an
    update looks at the object's current workspace only, so a move would land the object where the caller's
    role was never checked (and take it away from the members who own it).
    """

    def bind(self, field_name: str, parent) -> None:
        super().bind(field_name, parent)
        if self.help_text is None and isinstance(parent, serializers.ModelSerializer):
            self.help_text = FIXED_HELP

    def to_internal_value(self, data):
        instance = getattr(self.parent, "instance", None)
        if isinstance(instance, models.Model):
            current = self.get_attribute(instance)
            if current is None or str(data) != str(self.to_representation(current)):
                raise serializers.ValidationError(self.move_refused_message(instance))
        return super().to_internal_value(data)

    def move_refused_message(self, instance: models.Model) -> str:
        thing = instance._meta.verbose_name
        target = self.queryset.model._meta.verbose_name
        article = "An" if thing[0] in "aeiou" else "A"
        return (
            f"{article} {thing} cannot move to another {target}: leave {self.field_name} as it is, "
            f"or create a new {thing} for the other {target}."
        )


class VisibleRelatedField(FixedOnUpdateMixin, serializers.PrimaryKeyRelatedField):
    """A foreign key that only accepts objects of the caller's workspaces (others read as 'does not exist')."""

    def get_queryset(self):
        return super().get_queryset().visible_to(self.context["request"].user)


class FixedSlugRelatedField(FixedOnUpdateMixin, serializers.SlugRelatedField):
    pass


class WorkspaceScopedViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, WorkspaceRolePermission]
    #: Minimum role per action; reads default to viewer, everything else to editor.
    action_roles: dict[str, Role] = {}
    #: The audit log's word for a create, update or destroy here, where "created"/"updated"/"deleted" says less.
    audit_actions: dict[str, str] = {}

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
        audited_save(None, serializer.save, action=self.audit_actions.get("create"))

    def perform_update(self, serializer) -> None:
        audited_save(serializer.instance, serializer.save, action=self.audit_actions.get("update"))

    def perform_destroy(self, instance: models.Model) -> None:
        audited_delete(instance, action=self.audit_actions.get("destroy", "deleted"))
