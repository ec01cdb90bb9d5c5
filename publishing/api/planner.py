"""The planner's API, each action the dashboard's calendar, queue, gallery and preview offer: move a post, an
account's queue (reorder, pause, resume, post the next now), bulk clip actions, the post preview, the export."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import require_role
from accounts.models import Role, workspace_id_of
from publishing import bulk, queue
from publishing.api.planner_serializers import (
    BulkClipActionSerializer,
    BulkResultSerializer,
    ExportRowSerializer,
    PostMoveSerializer,
    PostPreviewRequestSerializer,
    PostPreviewSerializer,
    QueueSerializer,
    ReorderSerializer,
)
from publishing.api.serializers import PostSerializer, PostWithWarningsSerializer
from publishing.export import MAX_EXPORT_ROWS, export_rows, to_csv
from publishing.models import Post, XAccount
from publishing.preview import post_preview
from publishing.services import caption_for, caption_warnings


def _drf(exc: ValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.messages)


class MovedPostSerializer(PostWithWarningsSerializer):
    previous_scheduled_at = serializers.DateTimeField(
        read_only=True, help_text="Where the post was: send it back as scheduled_at to undo the move.")

    class Meta(PostWithWarningsSerializer.Meta):
        fields = [*PostWithWarningsSerializer.Meta.fields, "previous_scheduled_at"]
        read_only_fields = [*PostWithWarningsSerializer.Meta.read_only_fields, "previous_scheduled_at"]


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return to_csv(data if isinstance(data, list) else []).encode("utf-8")


class PostPlannerActions:
    """Post actions of the calendar and the preview (mixed into PostViewSet)."""

    @extend_schema(request=PostMoveSerializer, responses=MovedPostSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk=None) -> Response:
        """Move a scheduled post to another local day (its wall-clock time kept in the campaign's zone) or time,
        re-checked like a new schedule; the answer's previous_scheduled_at undoes it."""
        post = self.get_object()
        data = PostMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            previous = queue.move_post(post, v.get("date"), v.get("time"), v.get("scheduled_at"))
        except ValidationError as exc:
            raise _drf(exc) from exc
        post.refresh_from_db()
        post.warnings, post.previous_scheduled_at = caption_warnings(post), previous
        return Response(MovedPostSerializer(post, context=self.get_serializer_context()).data)

    @extend_schema(request=PostPreviewRequestSerializer, responses=PostPreviewSerializer)
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        """How a post of this clip will look on X: the caption's weighted length, its links, hashtags and mentions,
        the poster, the duration and the AI label. Changes nothing."""
        data = PostPreviewRequestSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        v = data.validated_data
        clip = v["clip"]
        try:
            caption = v.get("caption")
            if caption is None:
                caption = caption_for(clip, v.get("caption_template") or clip.campaign.default_caption_template())
        except ValidationError as exc:
            raise _drf(exc) from exc
        account = v.get("x_account")
        preview = post_preview(clip, caption, account.handle if account else "")
        return Response(PostPreviewSerializer(preview).data)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR,
                              (200, "application/json"): ExportRowSerializer(many=True)})
    @action(detail=False, methods=["get"], renderer_classes=[CSVRenderer, renderers.JSONRenderer],
            pagination_class=None)
    def export(self, request: Request) -> Response:
        """Posts (filtered like the list) with their metrics, as CSV (or JSON with Accept: application/json).
        Cells a spreadsheet would run as a formula start with a quote."""
        posts = self.filter_queryset(self.get_queryset()).select_related("clip__campaign", "x_account")
        response = Response(export_rows(posts.order_by("scheduled_at", "pk")[:MAX_EXPORT_ROWS]))
        if isinstance(getattr(request, "accepted_renderer", None), CSVRenderer):
            response["Content-Disposition"] = 'attachment; filename="clipcast-posts.csv"'
        return response

    def finalize_response(self, request: Request, response: HttpResponse, *args, **kwargs) -> HttpResponse:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.action == "export" and response.status_code >= 400 and isinstance(response, Response):
            # Errors are JSON like everywhere else in the API, never an empty CSV.
            response.accepted_renderer, response.accepted_media_type = renderers.JSONRenderer(), "application/json"
        return response


class QueueActions:
    """An account's queue (mixed into XAccountViewSet): read it, reorder, pause, resume, post the next now."""

    def _queue(self, account: XAccount) -> Response:
        body = {"account": account.pk, "paused": account.queue_paused, "places": queue.queue_places(account)}
        return Response(QueueSerializer(body).data)

    @extend_schema(responses=QueueSerializer)
    @action(detail=True, methods=["get"], url_path="queue")
    def queue(self, request: Request, pk=None) -> Response:
        """The account's upcoming posts in order, with the empty posting slots between them."""
        return self._queue(self.get_object())

    @extend_schema(request=ReorderSerializer, responses=QueueSerializer)
    @action(detail=True, methods=["post"])
    def reorder(self, request: Request, pk=None) -> Response:
        """Put the listed posts in a new order: they swap their scheduled times, so the slots stay."""
        account = self.get_object()
        data = ReorderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            queue.reorder_queue(account, data.validated_data["posts"])
        except ValidationError as exc:
            raise _drf(exc) from exc
        return self._queue(account)

    @extend_schema(request=None, responses=QueueSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk=None) -> Response:
        """Pause the queue: its due posts wait (nothing is published) until it is resumed."""
        account = self.get_object()
        queue.set_queue_paused(account, True)
        return self._queue(account)

    @extend_schema(request=None, responses=QueueSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk=None) -> Response:
        """Resume the queue: due posts go out again, spaced, and those later than the maximum lateness are skipped."""
        account = self.get_object()
        queue.set_queue_paused(account, False)
        return self._queue(account)

    @extend_schema(request=None, responses=PostSerializer)
    @action(detail=True, methods=["post"], url_path="post-next")
    def post_next(self, request: Request, pk=None) -> Response:
        """Make the queue's next post due now: the dispatcher sends it on its next tick."""
        account = self.get_object()
        try:
            post = queue.post_next_now(account)
        except ValidationError as exc:
            raise _drf(exc) from exc
        return Response(PostSerializer(post, context=self.get_serializer_context()).data)


class BulkClipActionViewSet(viewsets.GenericViewSet):
    """Act on many clips at once; each clip's outcome is in the answer, skipped ones with the reason."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = BulkClipActionSerializer
    queryset = Post.objects.none()  # no rows of its own: the clips come from the body

    @extend_schema(request=BulkClipActionSerializer, responses={200: BulkResultSerializer})
    def create(self, request: Request) -> Response:
        data = BulkClipActionSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        v = data.validated_data
        chosen = bulk.BulkAction(v["action"])
        account = v.get("x_account")
        if chosen.schedules:
            require_role(request.user, workspace_id_of(account), Role.EDITOR)
        if not bulk.permitted_any(request.user, v["clips"], chosen):
            raise PermissionDenied(f"This needs the {chosen.needed_role.label.lower()} role or higher in the clips' "
                                   "workspace.")
        try:
            outcomes = bulk.act_on_clips(request.user, v["clips"], chosen, account, v.get("caption_template"),
                                         v.get("starting"))
        except ValidationError as exc:
            raise _drf(exc) from exc
        body = {"done": sum(o.done for o in outcomes), "skipped": sum(not o.done for o in outcomes),
                "results": outcomes}
        return Response(BulkResultSerializer(body).data, status=status.HTTP_200_OK)

