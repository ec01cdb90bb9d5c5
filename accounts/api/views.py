from __future__ import annotations

from rest_framework import mixins, serializers

from accounts.api.base import WorkspaceScopedViewSet
from accounts.api.serializers import LAST_OWNER_MESSAGE, MembershipSerializer, WorkspaceSerializer
from accounts.models import Membership, Role, Workspace


class WorkspaceViewSet(WorkspaceScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.UpdateModelMixin):
    queryset = Workspace.objects.all()
    serializer_class = WorkspaceSerializer
    action_roles = {"update": Role.OWNER, "partial_update": Role.OWNER}

    def get_queryset(self):
        return Workspace.objects.for_user(self.request.user)

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["roles"] = dict(Membership.objects.filter(user=self.request.user).values_list("workspace_id", "role"))
        return context


class MembershipViewSet(WorkspaceScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    """Members of your workspaces; only owners add, change or remove members."""

    queryset = Membership.objects.select_related("user", "workspace")
    serializer_class = MembershipSerializer
    filterset_fields = ["workspace", "role"]
    action_roles = {
        "create": Role.OWNER, "update": Role.OWNER, "partial_update": Role.OWNER, "destroy": Role.OWNER,
    }

    def perform_destroy(self, membership: Membership) -> None:
        if membership.is_last_owner():
            raise serializers.ValidationError(LAST_OWNER_MESSAGE)
        membership.delete()
