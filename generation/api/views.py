from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import WorkspaceScopedViewSet, require_role
from accounts.models import Role, Workspace, workspace_id_of
from campaigns.api.views import PromptTemplateViewSet
from campaigns.models import PromptTemplate
from generation import costs, loras, services
from generation.api.serializers import (
    BrandLoraSerializer,
    CampaignLoraSerializer,
    ClipBatchResultSerializer,
    ClipBatchSerializer,
    ClipSerializer,
    PromptTemplateWithWarningsSerializer,
)
from generation.batches import expand_grid, rows_from_csv
from generation.models import BrandLora, CampaignLora, Clip
from generation.vocabulary import prompt_template_warnings


def as_drf_error(exc: ValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.messages)


class ClipFilter(filters.FilterSet):
    # Declared once: with `filterset_fields` django-filter builds a new FilterSet class on every request.
    class Meta:
        model = Clip
        fields = ["campaign", "prompt_template", "status", "review_status"]


class ClipViewSet(WorkspaceScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Clip.objects.select_related("reviewed_by")
    serializer_class = ClipSerializer
    filterset_class = ClipFilter
    action_roles = {
        "batch": Role.EDITOR, "cancel": Role.EDITOR, "retry": Role.EDITOR,
        "approve": Role.REVIEWER, "reject": Role.REVIEWER,
    }

    @extend_schema(request=ClipBatchSerializer, responses={201: ClipBatchResultSerializer})
    @action(detail=False, methods=["post"])
    def batch(self, request: Request) -> Response:
        """Create clips from a prompt template and a variable grid or CSV rows, and queue their renders."""
        data = ClipBatchSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        template = data.validated_data["prompt_template"]
        require_role(request.user, workspace_id_of(template), Role.EDITOR)
        cap = settings.CLIPCAST_MAX_CLIPS_PER_BATCH
        try:
            if "grid" in data.validated_data:
                rows = expand_grid(template, data.validated_data["grid"], cap)
            else:
                rows = rows_from_csv(template, data.validated_data["csv"], cap)
            result = services.create_clips(
                template, rows, params=data.validated_data.get("params"),
                seed_policy=services.SeedPolicy(data.validated_data["seed_policy"]),
                seed=data.validated_data["seed"],
            )
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        body = {"created": ClipSerializer(result.clips, many=True, context={"request": request}).data,
                "duplicates": result.duplicates, "warnings": result.warnings}
        return Response(body, status=status.HTTP_201_CREATED)

    def _act(self, outcome: bool, message: str) -> Response:
        clip = self.get_object()
        if not outcome:
            raise serializers.ValidationError(message)
        clip.refresh_from_db()
        return Response(self.get_serializer(clip).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        return self._act(services.cancel_clip(self.get_object()), "Only a queued or rendering clip can be cancelled.")

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk=None) -> Response:
        try:
            retried = services.retry_clip(self.get_object())
        except ValidationError as exc:  # over the workspace's render quota
            raise as_drf_error(exc) from exc
        return self._act(retried, "Only a failed or cancelled clip can be retried.")

    def _review(self, approve: bool) -> Response:
        clip = self.get_object()
        try:
            services.review_clip(clip, self.request.user, approve=approve)
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        return Response(self.get_serializer(clip).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk=None) -> Response:
        return self._review(approve=True)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk=None) -> Response:
        return self._review(approve=False)


class PromptTemplateWarningViewSet(PromptTemplateViewSet):
    """Prompt templates, answering a create or update with `warnings` about words the campaign's model cannot
    draw. Served here rather than by campaigns, which knows nothing of models."""

    def _answer(self, template: PromptTemplate, status_code: int) -> Response:
        template.warnings = prompt_template_warnings(template)
        return Response(PromptTemplateWithWarningsSerializer(template, context=self.get_serializer_context()).data,
                        status=status_code)

    @extend_schema(responses={201: PromptTemplateWithWarningsSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        return self._answer(serializer.instance, status.HTTP_201_CREATED)

    @extend_schema(responses=PromptTemplateWithWarningsSerializer)
    def update(self, request: Request, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return self._answer(serializer.instance, status.HTTP_200_OK)

    @extend_schema(responses=PromptTemplateWithWarningsSerializer)
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


class RenderUsageViewSet(WorkspaceScopedViewSet):
    """A workspace's render cost: device seconds this month against its quota, per month, and per campaign."""

    queryset = Workspace.objects.all()

    @extend_schema(responses={200: dict})
    def retrieve(self, request: Request, pk=None) -> Response:
        """Render device seconds of a workspace: this calendar month (UTC) used and queued against its monthly quota
        (set by a site admin; null for none), the last 12 months, and each campaign's totals."""
        workspace = self.get_object()
        now = timezone.now()
        current = costs.usage(workspace, now)
        return Response({
            "workspace": workspace.pk,
            "month": costs.month_start(now).strftime("%Y-%m"),
            "gpu_seconds": round(current.used, 3),
            "queued_seconds": round(current.committed, 3),
            "quota_seconds": current.quota,
            "quota_percent": None if current.percent is None else round(current.percent, 1),
            "warning": current.warning(),
            "months": costs.monthly_totals(workspace),
            "campaigns": costs.campaign_totals(workspace, now),
        })


class BrandLoraViewSet(WorkspaceScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.CreateModelMixin, mixins.DestroyModelMixin):
    """Brand LoRAs of the caller's workspaces. An upload (multipart) is checked against its model's keys first:
    a wrong file type, a file too large or keys the model lacks are a 400 naming the problem."""

    queryset = BrandLora.objects.select_related("uploaded_by")
    serializer_class = BrandLoraSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["workspace", "model_key"]

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        require_role(request.user, data["workspace"].pk, Role.EDITOR)
        try:
            lora = loras.upload_lora(workspace=data["workspace"], name=data["name"], model_key=data["model_key"],
                                     upload=data["file"], user=request.user)
        except ValidationError as exc:
            raise serializers.ValidationError({"file": exc.messages}) from exc
        return Response(self.get_serializer(lora).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, lora: BrandLora) -> None:
        loras.delete_lora(lora)


class CampaignLoraViewSet(WorkspaceScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    """Which LoRAs a campaign renders with, and at what weight (clips made from then on record them)."""

    queryset = CampaignLora.objects.select_related("lora", "campaign")
    serializer_class = CampaignLoraSerializer
    filterset_fields = ["campaign", "lora"]
