from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.base import VisibleRelatedField
from accounts.models import Workspace
from campaigns.api.serializers import PromptTemplateSerializer
from campaigns.models import Campaign, PromptTemplate
from core.serializers import ColumnReadMixin
from generation import costs
from generation.engine.lora import MAX_WEIGHT, MIN_WEIGHT
from generation.loras import check_link
from generation.media import media_url
from generation.models import BrandLora, CampaignLora, Clip, ClipStatus
from generation.services import SeedPolicy


@extend_schema_field({"type": "string", "format": "uri", "nullable": True,
                      "description": "For members only: the member-only media address (session or token), or a "
                                     "presigned bucket URL that expires after MEDIA_URL_EXPIRY seconds."})
class MediaURLField(serializers.Field):
    """A clip's file as a URL its workspace's members can fetch (the clip is already scoped to the caller)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, clip: Clip) -> str | None:
        return media_url(clip, self.field_name, self.context.get("request"))


class _ForecastField(serializers.Field):
    """A value of the render forecast of a queued or rendering clip; one forecast per response, kept in the
    serializer context so a page of clips plays the render queue forward once."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def predicted(self, clip: Clip) -> costs.RenderForecast | None:
        if clip.status not in (ClipStatus.QUEUED, ClipStatus.RENDERING):
            return None
        if "render_forecast" not in self.context:
            self.context["render_forecast"] = costs.shared_forecast()
        return self.context["render_forecast"].get(clip.pk)


@extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
class ExpectedReadyField(_ForecastField):
    def to_representation(self, clip: Clip) -> str | None:
        predicted = self.predicted(clip)
        return serializers.DateTimeField().to_representation(predicted.ready_at) if predicted else None


@extend_schema_field({"type": "boolean"})
class LateForPostField(_ForecastField):
    def to_representation(self, clip: Clip) -> bool:
        predicted = self.predicted(clip)
        return bool(predicted and predicted.late)


class ClipSerializer(ColumnReadMixin, serializers.ModelSerializer):
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    out_of_vocabulary = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="Prompt words the clip's model was never trained on: the clip does not show what they say.")
    loras = serializers.ListField(
        child=serializers.DictField(), read_only=True,
        help_text="The LoRAs the clip renders with, in order: [{name, sha256 (of the file), weight}].")
    frames_note = serializers.JSONField(
        read_only=True, help_text="frames_requested, frames_rendered, and notes: why they differ (the model renders "
        "only certain frame counts, e.g. 4k+1).")
    video = MediaURLField()
    gif = MediaURLField()
    poster = MediaURLField()
    gpu_seconds = serializers.FloatField(
        read_only=True, allow_null=True,
        help_text="Device seconds the render took (model load when cold, denoise, decode, export): what the "
                  "workspace's monthly render quota counts.")
    expected_ready_at = ExpectedReadyField(
        help_text="Queued or rendering clips: when the render is expected to finish, from the queue ahead of it and "
                  "measured render times (null otherwise).")
    late_for_post = LateForPostField(
        help_text="True when the clip is not expected to be ready before its earliest scheduled post is due.")

    class Meta:
        model = Clip
        fields = [
            "id", "campaign", "prompt_template", "variables", "prompt", "negative_prompt", "render_params", "seed",
            "status", "progress", "stage", "error", "attempts", "video", "gif", "poster", "duration_s", "timings",
            "gpu_seconds", "expected_ready_at", "late_for_post", "device", "worker", "model_id", "weights_hash",
            "frames_hash", "versions", "performance", "out_of_vocabulary", "frames_note", "loras", "windowing",
            "review_status", "reviewed_by", "reviewed_at", "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields


class ClipBatchSerializer(serializers.Serializer):
    prompt_template = VisibleRelatedField(queryset=PromptTemplate.objects.all())
    grid = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=200), max_length=100),
        required=False, help_text="Variable name -> chosen values; every combination becomes a clip.",
    )
    csv = serializers.CharField(required=False, max_length=256 * 1024, help_text="CSV with a header of variables.")
    params = serializers.DictField(required=False, help_text="Render overrides, e.g. {\"frames\": 24}.")
    seed_policy = serializers.ChoiceField(choices=[p.value for p in SeedPolicy], default=SeedPolicy.INCREMENT.value)
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1, default=0)

    def validate(self, attrs: dict) -> dict:
        if ("grid" in attrs) == ("csv" in attrs):
            raise serializers.ValidationError("Send either a grid or a csv, not both or neither.")
        return attrs


WARNINGS_HELP = ("Warnings, not errors: for example prompt words the campaign's model was never trained on, which "
                 "it renders as something else.")


class ClipBatchResultSerializer(serializers.Serializer):
    created = ClipSerializer(many=True)
    duplicates = serializers.IntegerField()
    warnings = serializers.ListField(child=serializers.CharField(), help_text=WARNINGS_HELP)


class PromptTemplateWithWarningsSerializer(PromptTemplateSerializer):
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True, help_text=WARNINGS_HELP)

    class Meta(PromptTemplateSerializer.Meta):
        fields = [*PromptTemplateSerializer.Meta.fields, "warnings"]


class BrandLoraSerializer(serializers.ModelSerializer):
    workspace = VisibleRelatedField(queryset=Workspace.objects.all())
    file = serializers.FileField(
        write_only=True, help_text="The LoRA's .safetensors file; its keys are checked against the model's.")
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = BrandLora
        fields = ["id", "workspace", "name", "model_key", "file", "size", "sha256", "uploaded_by", "created_at"]
        read_only_fields = ["size", "sha256", "created_at"]


class CampaignLoraSerializer(serializers.ModelSerializer):
    campaign = VisibleRelatedField(queryset=Campaign.objects.all())
    lora = VisibleRelatedField(queryset=BrandLora.objects.all())
    weight = serializers.FloatField(min_value=MIN_WEIGHT, max_value=MAX_WEIGHT, default=1.0)
    lora_name = serializers.CharField(source="lora.name", read_only=True)
    lora_sha256 = serializers.CharField(source="lora.sha256", read_only=True)

    class Meta:
        model = CampaignLora
        fields = ["id", "campaign", "lora", "weight", "lora_name", "lora_sha256", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict) -> dict:
        current = self.instance
        campaign = attrs.get("campaign", getattr(current, "campaign", None))
        lora = attrs.get("lora", getattr(current, "lora", None))
        weight = attrs.get("weight", getattr(current, "weight", 1.0))
        try:
            check_link(campaign, lora, weight, link=current)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return attrs
