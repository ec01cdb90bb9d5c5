from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import WorkspaceScopedViewSet, require_role
from accounts.models import Role, workspace_id_of
from campaigns.models import Campaign
from publishing import services
from publishing.api.planner import PostPlannerActions, QueueActions
from publishing.api.serializers import (
    PostSerializer,
    PostUpdateSerializer,
    PostWithWarningsSerializer,
    XAccountSerializer,
)
from publishing.metrics import campaign_rollup
from publishing.models import Post, XAccount


class XAccountViewSet(QueueActions, WorkspaceScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = XAccount.objects.all()
    serializer_class = XAccountSerializer
    filterset_fields = ["workspace", "status"]


class PostViewSet(PostPlannerActions, WorkspaceScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Post.objects.all()
    serializer_class = PostSerializer
    filterset_fields = ["x_account", "status", "clip", "clip__campaign"]
    action_roles = {"preview": Role.VIEWER}

    def _with_warnings(self, post: Post, status_code: int = status.HTTP_200_OK) -> Response:
        post.warnings = services.caption_warnings(post) + services.clip_warnings(post)
        return Response(PostWithWarningsSerializer(post, context=self.get_serializer_context()).data, status_code)

    @extend_schema(request=PostSerializer, responses={201: PostWithWarningsSerializer})
    def create(self, request: Request) -> Response:
        """Schedule a clip (approved, or still queued or rendering: the post waits for it, see `warnings`): at a UTC
        instant, at a local time of the campaign, or in the next slot."""
        data = PostSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        v = data.validated_data
        require_role(request.user, workspace_id_of(v["clip"]), Role.EDITOR)
        try:
            if v.get("caption_template"):
                v["caption"] = services.caption_for(v["clip"], v["caption_template"])
            if v.get("add_to_queue"):
                post = services.add_to_queue(v["clip"], v["x_account"], v.get("caption"))
            elif v.get("post_now"):
                post = services.post_now(v["clip"], v["x_account"], v.get("caption"))
            elif v.get("local_time"):
                local = timezone.make_naive(v["local_time"]) if timezone.is_aware(v["local_time"]) else v["local_time"]
                post = services.schedule_post_local(v["clip"], v["x_account"], v.get("caption"), local)
            else:
                post = services.schedule_post(v["clip"], v["x_account"], v.get("caption"), v["scheduled_at"])
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return self._with_warnings(post, status.HTTP_201_CREATED)

    @extend_schema(request=PostUpdateSerializer, responses=PostWithWarningsSerializer)
    def partial_update(self, request: Request, pk=None) -> Response:
        post = self.get_object()
        data = PostUpdateSerializer(post, data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        try:
            v = data.validated_data
            moved = services.reschedule_post(post, v["scheduled_at"], v.get("caption"))
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        if not moved:
            raise serializers.ValidationError("Only a scheduled post can be changed; this one has started going out.")
        post.refresh_from_db()
        return self._with_warnings(post)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], url_path="post-now")
    def post_now(self, request: Request, pk=None) -> Response:
        """Make a scheduled post due now: the dispatcher sends it on its next tick (the account's spacing applies)."""
        post = self.get_object()
        if not services.publish_now(post):
            raise serializers.ValidationError("Only a scheduled post can be posted now; this one has started going out "
                                              "or was cancelled.")
        post.refresh_from_db()
        return Response(self.get_serializer(post).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        post = self.get_object()
        if not services.cancel_post(post):
            raise serializers.ValidationError("Only a scheduled post can be cancelled; this one has started going out.")
        post.refresh_from_db()
        return Response(self.get_serializer(post).data)


class MetricsViewSet(WorkspaceScopedViewSet):
    queryset = Campaign.objects.all()

    @extend_schema(
        parameters=[OpenApiParameter("days", int, description="Window in days (1-365).", required=False)],
        responses={200: dict},
    )
    def retrieve(self, request: Request, pk=None) -> Response:
        """Metrics of a campaign's posted posts: totals, per prompt template and per day."""
        campaign = self.get_object()
        try:
            days = int(request.query_params.get("days", 30))
        except ValueError:
            days = 0
        if not 1 <= days <= 365:
            raise serializers.ValidationError({"days": "Give a whole number of days from 1 to 365."})
        return Response({"campaign": campaign.pk, "days": days, **campaign_rollup(campaign, days)})
