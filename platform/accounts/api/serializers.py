from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.api.base import FixedSlugRelatedField, VisibleRelatedField
from accounts.models import Membership, Role, Workspace

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
