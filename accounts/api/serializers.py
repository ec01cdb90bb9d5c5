from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from rest_framework import serializers

from accounts.api.base import FixedSlugRelatedField, VisibleRelatedField
from accounts.models import AuditEvent, Invitation, Membership, Role, Workspace

LAST_OWNER_MESSAGE = "This is the workspace's only owner: make another member owner first."


class WorkspaceSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Workspace
        fields = ["id", "name", "slug", "timezone", "role", "created_at"]
        read_only_fields = ["slug", "created_at"]

    def get_role(self, workspace: Workspace) -> str | None:
        roles = self.context.get("roles")
        if roles is not None:
            return roles.get(workspace.pk)
        return workspace.role_of(self.context["request"].user)


class MyWorkspaceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    workspaces = MyWorkspaceSerializer(many=True)


class MembershipSerializer(serializers.ModelSerializer):
    workspace = VisibleRelatedField(queryset=Workspace.objects.all())
    user = FixedSlugRelatedField(slug_field="username", queryset=get_user_model().objects.all())

    class Meta:
        model = Membership
        fields = ["id", "workspace", "user", "role", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict) -> dict:
        membership = self.instance
        if membership is None:
            return attrs
        if attrs.get("role", membership.role) != Role.OWNER and membership.is_last_owner():
            raise serializers.ValidationError(LAST_OWNER_MESSAGE)
        return attrs


class InvitationSerializer(serializers.ModelSerializer):
    """What an owner sees of an invitation: never whether the name or address belongs to an account."""

    workspace = VisibleRelatedField(queryset=Workspace.objects.all())
    invitee = serializers.CharField(
        max_length=254, help_text="The username or email address of the person to invite."
    )
    status = serializers.CharField(source="current_status", read_only=True)
    invited_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "workspace", "invitee", "role", "status", "invited_by", "created_at", "expires_at"]
        read_only_fields = ["created_at", "expires_at"]

    def validate_invitee(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("Give the username or email address of the person to invite.")
        if "@" in value:
            try:
                validate_email(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(
                    f"{value!r} is not a valid email address: check it, or give a username instead."
                ) from exc
        return value


class ReceivedInvitationSerializer(serializers.ModelSerializer):
    """An invitation as its invitee sees it."""

    workspace_name = serializers.CharField(source="workspace.name", read_only=True)
    invited_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    status = serializers.CharField(source="current_status", read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "workspace", "workspace_name", "role", "status", "invited_by", "created_at", "expires_at"]
        read_only_fields = fields


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True,
                                  help_text='The username of who made the change, or "system" for background work.')
    changes = serializers.JSONField(read_only=True, help_text="Changed fields as {field: [before, after]}; secrets "
                                    'read "[redacted]".')

    class Meta:
        model = AuditEvent
        fields = ["id", "workspace", "at", "actor", "action", "object_type", "object_id", "object_repr", "changes"]
        read_only_fields = fields
