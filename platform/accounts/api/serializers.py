from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.api.base import VisibleRelatedField
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


class MyWorkspaceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    workspaces = MyWorkspaceSerializer(many=True)


class MembershipSerializer(serializers.ModelSerializer):
    workspace = VisibleRelatedField(queryset=Workspace.objects.all())
    user = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all())

    class Meta:
        model = Membership
        fields = ["id", "workspace", "user", "role", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict) -> dict:
        membership = self.instance
        if membership is None:
            return attrs
        # Moving a membership would grant a role in a workspace the caller's role there was never checked for.
        if attrs.get("workspace", membership.workspace) != membership.workspace or attrs.get(
            "user", membership.user
        ) != membership.user:
            raise serializers.ValidationError(
                "A membership cannot move to another workspace or user: remove it and add a new one."
            )
        if attrs.get("role", membership.role) != Role.OWNER and membership.is_last_owner():
            raise serializers.ValidationError(LAST_OWNER_MESSAGE)
        return attrs
