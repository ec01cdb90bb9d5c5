from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.base import VisibleRelatedField
from campaigns.api.serializers import PromptTemplateSerializer
from campaigns.models import PromptTemplate
from core.serializers import ColumnReadMixin
from generation.media import media_url
from generation.models import Clip
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


class ClipSerializer(ColumnReadMixin, serializers.ModelSerializer):
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    out_of_vocabulary = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="Prompt words the clip's model was never trained on: the clip does not show what they say.")
    video = MediaURLField()
    gif = MediaURLField()
    poster = MediaURLField()

    class Meta:
        model = Clip
        fields = [
            "id", "campaign", "prompt_template", "variables", "prompt", "negative_prompt", "render_params", "seed",
            "status", "progress", "stage", "error", "attempts", "video", "gif", "poster", "duration_s", "timings",
            "device", "worker", "model_id", "weights_hash", "frames_hash", "versions", "out_of_vocabulary",
            "windowing", "review_status", "reviewed_by", "reviewed_at", "created_at", "started_at", "finished_at",
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
