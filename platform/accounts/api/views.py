from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.base import WorkspaceScopedViewSet
from accounts.api.serializers import LAST_OWNER_MESSAGE, MembershipSerializer, MeSerializer, WorkspaceSerializer
from accounts.models import Membership, Role, Workspace


class MeView(APIView):
    """Who you are and your workspaces: one query, so it also shows what an authenticated request costs at least."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        rows = (Membership.objects.filter(user=request.user).order_by("workspace__name", "workspace_id")
                .values_list("workspace_id", "workspace__name", "role"))
        workspaces = [{"id": pk, "name": name, "role": role} for pk, name, role in rows]
        return Response({"username": request.user.get_username(), "workspaces": workspaces})


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
