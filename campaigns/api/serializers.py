from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.base import VisibleRelatedField
from accounts.models import Workspace
from campaigns.models import (
    MAX_TEMPLATE_COMBINATIONS,
    MAX_VALUES_PER_VARIABLE,
    MAX_VARIABLES_PER_TEMPLATE,
    Campaign,
    CaptionTemplate,
    PostingSlot,
    PromptTemplate,
    configured_model_keys,
    output_size_problem,
)


class CampaignSerializer(serializers.ModelSerializer):
    workspace = VisibleRelatedField(queryset=Workspace.objects.all())
    clip_count = serializers.IntegerField(read_only=True)
    gpu_seconds = serializers.FloatField(
        read_only=True, help_text="Render device seconds of all the campaign's clips (per month: /api/render-usage/).")

    class Meta:
        model = Campaign
        fields = [
            "id", "workspace", "name", "status", "timezone", "approval_required", "model_key", "frames", "fps",
            "width", "height", "output_width", "output_height", "steps", "guidance", "negative_prompt",
            "clip_count", "gpu_seconds", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_model_key(self, value: str) -> str:
        keys = configured_model_keys()
        if value in keys or (self.instance is not None and value == self.instance.model_key):
            return value  # a key no longer configured may stay on a campaign that already has it
        raise serializers.ValidationError(
            f"“{value}” is not a configured model: use one of {', '.join(keys)} (CLIPCAST_MODELS adds more).")

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        current = self.instance
        width = attrs.get("output_width", current.output_width if current else 720)
        height = attrs.get("output_height", current.output_height if current else 720)
        problem = output_size_problem(width, height)
        if problem:
            raise serializers.ValidationError({"output_height": [problem]})
        return attrs


class ModelCleanMixin:
    """Run the model's clean() so API writes get the same checks as forms and the admin."""

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        instance = self.Meta.model(**{**self._current_values(), **attrs})
        try:
            instance.clean()
        except Exception as exc:
            from django.core.exceptions import ValidationError

            if isinstance(exc, ValidationError):
                raise serializers.ValidationError(exc.messages) from exc
            raise
        return attrs

    def _current_values(self) -> dict:
        if self.instance is None:
            return {}
        return {f.name: getattr(self.instance, f.name) for f in self.Meta.model._meta.concrete_fields}


class PromptTemplateSerializer(ModelCleanMixin, serializers.ModelSerializer):
    campaign = VisibleRelatedField(queryset=Campaign.objects.all())

    class Meta:
        model = PromptTemplate
        fields = ["id", "campaign", "name", "body", "variables", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"variables": {"help_text": (
            f"Variable name -> list of values. At most {MAX_VARIABLES_PER_TEMPLATE} variables, "
            f"{MAX_VALUES_PER_VARIABLE} values each and {MAX_TEMPLATE_COMBINATIONS:,} combinations in all."
        )}}


class CaptionTemplateSerializer(ModelCleanMixin, serializers.ModelSerializer):
    campaign = VisibleRelatedField(queryset=Campaign.objects.all())

    class Meta:
        model = CaptionTemplate
        fields = ["id", "campaign", "name", "body", "hashtags", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


# OpenAPI's "format: time" is RFC 3339's full-time, which needs a UTC offset; a slot's time is a wall-clock time
# in the campaign's time zone, so the schema says what it is: HH:MM[:SS].
@extend_schema_field({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
                      "example": "09:30:00"})
class LocalTimeField(serializers.TimeField):
    pass


class PostingSlotSerializer(serializers.ModelSerializer):
    campaign = VisibleRelatedField(queryset=Campaign.objects.all())
    local_time = LocalTimeField(help_text="Wall-clock time in the campaign's time zone, HH:MM or HH:MM:SS.")

    class Meta:
        model = PostingSlot
        fields = ["id", "campaign", "weekday", "local_time"]


class PreviewSerializer(serializers.Serializer):
    values = serializers.DictField(child=serializers.CharField(max_length=200))


class PreviewResultSerializer(serializers.Serializer):
    prompt = serializers.CharField()
