from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count, FloatField, Sum
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import WorkspaceScopedViewSet
from accounts.models import Role
from campaigns.api.serializers import (
    CampaignSerializer,
    CaptionTemplateSerializer,
    PostingSlotSerializer,
    PreviewResultSerializer,
    PreviewSerializer,
    PromptTemplateSerializer,
)
from campaigns.models import Campaign, CaptionTemplate, PostingSlot, PromptTemplate


class CrudViewSet(WorkspaceScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    pass


class CampaignViewSet(CrudViewSet):
    queryset = Campaign.objects.annotate(
        clip_count=Count("clips"), gpu_seconds=Coalesce(Sum("clips__gpu_seconds"), 0.0, output_field=FloatField()),
    ).order_by("-created_at", "-id")
    serializer_class = CampaignSerializer
    filterset_fields = ["workspace", "status"]

    def perform_create(self, serializer) -> None:
        super().perform_create(serializer)
        serializer.instance.clip_count = 0  # the queryset's annotation is not on a new row; the schema requires it

    def perform_destroy(self, campaign: Campaign) -> None:
        # Campaigns own clips and posts: "delete" archives, so nothing posted loses its history.
        campaign.archive()


class PromptTemplateViewSet(CrudViewSet):
    queryset = PromptTemplate.objects.select_related("campaign")
    serializer_class = PromptTemplateSerializer
    filterset_fields = ["campaign"]
    action_roles = {"preview": Role.VIEWER}

    @extend_schema(request=PreviewSerializer, responses=PreviewResultSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request: Request, pk=None) -> Response:
        template = self.get_object()
        data = PreviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            prompt = template.render(data.validated_data["values"])
        except ValidationError as exc:
            raise serializers.ValidationError({"values": exc.messages}) from exc
        return Response({"prompt": prompt})



class CaptionTemplateViewSet(CrudViewSet):
    queryset = CaptionTemplate.objects.select_related("campaign")
    serializer_class = CaptionTemplateSerializer
    filterset_fields = ["campaign"]


class PostingSlotViewSet(CrudViewSet):
    queryset = PostingSlot.objects.select_related("campaign")
    serializer_class = PostingSlotSerializer
    filterset_fields = ["campaign"]
