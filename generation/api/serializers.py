from __future__ import annotations

from rest_framework import serializers

from accounts.api.base import VisibleRelatedField
from campaigns.models import PromptTemplate
from clipcast.serializers import ColumnReadMixin
from generation.models import Clip
from generation.services import SeedPolicy


class ClipSerializer(ColumnReadMixin, serializers.ModelSerializer):
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    video = serializers.FileField(read_only=True, use_url=True)
    gif = serializers.FileField(read_only=True, use_url=True)
    poster = serializers.FileField(read_only=True, use_url=True)

    class Meta:
        model = Clip
        fields = [
            "id", "campaign", "prompt_template", "variables", "prompt", "negative_prompt", "render_params", "seed",
            "status", "progress", "stage", "error", "attempts", "video", "gif", "poster", "duration_s", "timings",
            "device", "worker", "model_id", "weights_hash", "frames_hash", "versions", "review_status", "reviewed_by",
            "reviewed_at", "created_at", "started_at", "finished_at",
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


class ClipBatchResultSerializer(serializers.Serializer):
    created = ClipSerializer(many=True)
    duplicates = serializers.IntegerField()
