"""A/B experiments over the API: start one on a prompt template's grid, fill slots with variants, read each
variant's rate and chance of being best, declare the winner (or let the metrics refresh do it), stop."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import VisibleRelatedField, WorkspaceScopedViewSet, require_role
from accounts.models import Role, workspace_id_of
from campaigns.models import PromptTemplate
from publishing import experiments
from publishing.api.serializers import PostSerializer
from publishing.models import Experiment, XAccount


class VariantSerializer(serializers.Serializer):
    variables = serializers.DictField(child=serializers.CharField())
    label = serializers.CharField()
    clips = serializers.SerializerMethodField()
    posts = serializers.SerializerMethodField()
    impressions = serializers.IntegerField()
    engagements = serializers.IntegerField(help_text="Likes + replies + reposts + quotes of its posted posts.")
    rate = serializers.FloatField(allow_null=True, help_text="Engagements over impressions; null before metrics.")
    probability_best = serializers.FloatField(
        allow_null=True, help_text="Chance that this variant's true rate is the highest (Beta-binomial posterior).")

    def get_clips(self, variant) -> list[int]:
        return [clip.pk for clip in variant.clips]

    def get_posts(self, variant) -> list[int]:
        return [post.pk for post in variant.posts]


class ExperimentSerializer(serializers.ModelSerializer):
    prompt_template = VisibleRelatedField(queryset=PromptTemplate.objects.all())
    x_account = VisibleRelatedField(queryset=XAccount.objects.all())
    name = serializers.CharField(required=False, allow_blank=True, max_length=120)
    variants = serializers.SerializerMethodField()

    class Meta:
        model = Experiment
        fields = [
            "id", "campaign", "prompt_template", "x_account", "name", "status", "min_impressions", "decide_at",
            "winner", "winner_variables", "confidence", "decided_at", "created_at", "variants",
        ]
        read_only_fields = ["campaign", "status", "winner", "winner_variables", "confidence", "decided_at",
                            "created_at"]

    @extend_schema(responses=VariantSerializer(many=True))
    def get_variants(self, experiment: Experiment) -> list[dict]:
        return VariantSerializer(experiments.variants_of(experiment), many=True).data


class FillSerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=experiments.MAX_FILL, default=1)


class ExperimentViewSet(WorkspaceScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Experiment.objects.select_related("prompt_template", "x_account", "campaign")
    serializer_class = ExperimentSerializer
    filterset_fields = ["campaign", "prompt_template", "status"]

    def create(self, request: Request) -> Response:
        """Start an experiment on a prompt template whose grid has approved clips of two or more variants."""
        data = ExperimentSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        v = data.validated_data
        require_role(request.user, workspace_id_of(v["prompt_template"]), Role.EDITOR)
        try:
            experiment = experiments.start_experiment(
                v["prompt_template"], v["x_account"], name=v.get("name", ""),
                min_impressions=v.get("min_impressions", 1000), decide_at=v.get("decide_at"), user=request.user)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return Response(self.get_serializer(experiment).data, status.HTTP_201_CREATED)

    @extend_schema(request=FillSerializer, responses={201: PostSerializer(many=True)})
    @action(detail=True, methods=["post"])
    def fill(self, request: Request, pk=None) -> Response:
        """Schedule the campaign's next free slots with variants in rotation (the winner's neighbours once
        decided)."""
        experiment = self.get_object()
        data = FillSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            posts = experiments.fill_slots(experiment, data.validated_data["count"])
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return Response(PostSerializer(posts, many=True, context=self.get_serializer_context()).data,
                        status.HTTP_201_CREATED)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk=None) -> Response:
        """Declare the winner now from the metrics so far (every variant needs posted metrics)."""
        experiment = self.get_object()
        if not experiments.evaluate(experiment, force=True):
            reason = experiments.why_not_decidable(experiment) or f"This experiment is {experiment.status}."
            raise serializers.ValidationError(reason)
        experiment.refresh_from_db()
        return Response(self.get_serializer(experiment).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk=None) -> Response:
        """Stop without a winner; its scheduled posts stay in the queue."""
        experiment = self.get_object()
        if not experiments.stop(experiment):
            raise serializers.ValidationError(f"Only a running experiment can be stopped; this one is "
                                              f"{experiment.get_status_display().lower()}.")
        experiment.refresh_from_db()
        return Response(self.get_serializer(experiment).data)
