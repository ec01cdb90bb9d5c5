from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.api.base import WorkspaceScopedViewSet, require_role
from accounts.api.serializers import (
    LAST_OWNER_MESSAGE,
    AuditEventSerializer,
    InvitationSerializer,
    MembershipSerializer,
    MeSerializer,
    ReceivedInvitationSerializer,
    WorkspaceSerializer,
)
from accounts.models import AuditEvent, Invitation, Membership, Role, Workspace


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
    audit_actions = {"update": "settings_changed"}

    def get_queryset(self):
        return Workspace.objects.for_user(self.request.user)

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["roles"] = dict(Membership.objects.filter(user=self.request.user).values_list("workspace_id", "role"))
        return context


class MembershipViewSet(WorkspaceScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    """Members of your workspaces; only owners change or remove members. New members come by invitation."""

    queryset = Membership.objects.select_related("user", "workspace")
    serializer_class = MembershipSerializer
    filterset_fields = ["workspace", "role"]
    action_roles = {
        "update": Role.OWNER, "partial_update": Role.OWNER, "destroy": Role.OWNER,
    }
    audit_actions = {"update": "role_changed", "destroy": "member_removed"}

    def perform_destroy(self, membership: Membership) -> None:
        if membership.is_last_owner():
            raise serializers.ValidationError(LAST_OWNER_MESSAGE)
        super().perform_destroy(membership)


class InvitationViewSet(WorkspaceScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.CreateModelMixin):
    """Invitations owners sent. The answer to an invitation is the same whether or not the invitee has an account;
    the invitee becomes a member only by accepting it (see my-invitations)."""

    queryset = Invitation.objects.select_related("invited_by")
    serializer_class = InvitationSerializer
    filterset_fields = ["workspace", "role", "status"]
    action_roles = {"list": Role.OWNER, "retrieve": Role.OWNER, "create": Role.OWNER, "revoke": Role.OWNER}

    def get_queryset(self):
        return super().get_queryset().managed_by(self.request.user)

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        require_role(self.request.user, data["workspace"].pk, Role.OWNER)
        # `role` may be left out: the model's default (viewer) applies, as the schema says.
        role = data.get("role", Invitation._meta.get_field("role").default)
        serializer.instance, _ = services.invite(data["workspace"], data["invitee"], role, self.request.user)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None) -> Response:
        try:
            invitation = services.revoke(self.get_object())
        except services.InvitationError as exc:
            raise serializers.ValidationError({"detail": str(exc)}) from exc
        return Response(self.get_serializer(invitation).data)


class ReceivedInvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your pending invitations: accept one to join its workspace with its role, or decline it."""

    queryset = Invitation.objects.select_related("workspace", "invited_by")
    serializer_class = ReceivedInvitationSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return super().get_queryset().pending().addressed_to(self.request.user)

    def _answer(self, answer, pk) -> Invitation:
        invitation = self.get_object()
        try:
            return answer(invitation.pk, self.request.user)
        except services.InvitationError as exc:
            raise serializers.ValidationError({"detail": str(exc)}) from exc

    @extend_schema(request=None, responses=MembershipSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None) -> Response:
        membership = self._answer(services.accept, pk)
        return Response(MembershipSerializer(membership, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=ReceivedInvitationSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None) -> Response:
        return Response(self.get_serializer(self._answer(services.decline, pk)).data)


class AuditEventFilter(filters.FilterSet):
    actor = filters.CharFilter(field_name="actor_name", help_text='A username, or "system".')
    since = filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte", help_text="Events at or after this instant.")
    until = filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt", help_text="Events before this instant.")

    class Meta:
        model = AuditEvent
        fields = ["workspace", "action", "object_type", "object_id", "actor", "since", "until"]


class AuditEventViewSet(WorkspaceScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The audit log of your workspaces, newest first: every change, who made it and when (read-only)."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
