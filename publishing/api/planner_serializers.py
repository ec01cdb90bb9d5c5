"""Serializers of the planner's API: moving posts, an account's queue, bulk clip actions, the post preview and
the export."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.base import VisibleRelatedField
from campaigns.models import CaptionTemplate
from generation.models import Clip
from publishing.bulk import MAX_BULK, BulkAction
from publishing.export import COLUMNS
from publishing.models import XAccount
from publishing.queue import MAX_REORDER


class PostMoveSerializer(serializers.Serializer):
    date = serializers.DateField(
        required=False, help_text="Local day in the campaign's time zone; the post keeps its wall-clock time unless "
                                  "`time` is given.")
    time = serializers.TimeField(required=False, help_text="Local wall-clock time in the campaign's time zone.")
    scheduled_at = serializers.DateTimeField(
        required=False, help_text="An exact instant instead of `date` (an undo sends back `previous_scheduled_at`).")

    def validate(self, attrs: dict) -> dict:
        if ("date" in attrs) == ("scheduled_at" in attrs):
            raise serializers.ValidationError("Give either date (and optionally time) or scheduled_at.")
        if "time" in attrs and "date" not in attrs:
            raise serializers.ValidationError("A time needs its date.")
        return attrs


class QueuePlaceSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="UTC instant of the post or of the empty posting slot.")
    empty = serializers.BooleanField(help_text="An empty posting slot, free for a post.")
    post = serializers.IntegerField(source="post.pk", allow_null=True, default=None)
    caption = serializers.CharField(source="post.caption", allow_null=True, default=None)
    campaign = serializers.IntegerField(source="campaign.pk", allow_null=True, default=None)
    campaign_name = serializers.CharField(source="campaign.name", allow_null=True, default=None)


class QueueSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    paused = serializers.BooleanField()
    places = QueuePlaceSerializer(many=True)


class ReorderSerializer(serializers.Serializer):
    posts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), min_length=1, max_length=MAX_REORDER,
        help_text="Ids of scheduled posts of this account in their new order; they take their own times, earliest "
                  "first (two ids swap two posts).")


class BulkClipActionSerializer(serializers.Serializer):
    clips = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), min_length=1, max_length=MAX_BULK,
        help_text=f"Ids of the clips, in the order to act on them (at most {MAX_BULK}).")
    action = serializers.ChoiceField(choices=[a.value for a in BulkAction], help_text=(
        "approve / reject (reviewer role), queue: each clip into the account's next free posting slot, slots: one "
        "clip per free posting slot from `starting` on (editor role)."))
    x_account = VisibleRelatedField(queryset=XAccount.objects.all(), required=False,
                                    help_text="The account to post on (queue and slots).")
    caption_template = VisibleRelatedField(
        queryset=CaptionTemplate.objects.all(), required=False,
        help_text="Caption template of the clips' campaign; without it each campaign's default.")
    starting = serializers.DateTimeField(required=False, help_text="slots: fill free slots after this instant.")

    def validate_clips(self, ids: list[int]) -> list[Clip]:
        """The caller's clips in the given order, in one query; another workspace's ids do not exist."""
        ids = list(dict.fromkeys(ids))
        found = Clip.objects.visible_to(self.context["request"].user).select_related("campaign").in_bulk(ids)
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise serializers.ValidationError(f"Invalid pk \"{missing[0]}\" - object does not exist.")
        return [found[pk] for pk in ids]

    def validate(self, attrs: dict) -> dict:
        if attrs["action"] in (BulkAction.QUEUE, BulkAction.SLOTS) and not attrs.get("x_account"):
            raise serializers.ValidationError({"x_account": "Pick the X account to post on."})
        return attrs


class BulkOutcomeSerializer(serializers.Serializer):
    clip = serializers.IntegerField(source="clip_id")
    done = serializers.BooleanField()
    message = serializers.CharField(help_text="What was done, or why the clip was skipped.")
    post = serializers.IntegerField(source="post.pk", allow_null=True, default=None)


class BulkResultSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    skipped = serializers.IntegerField()
    results = BulkOutcomeSerializer(many=True)


class PostPreviewRequestSerializer(serializers.Serializer):
    clip = VisibleRelatedField(queryset=Clip.objects.select_related("campaign"))
    caption = serializers.CharField(required=False, max_length=4000, allow_blank=True, trim_whitespace=False)
    caption_template = VisibleRelatedField(
        queryset=CaptionTemplate.objects.all(), required=False,
        help_text="Render this caption template for the clip (instead of `caption`).")
    x_account = VisibleRelatedField(queryset=XAccount.objects.all(), required=False)


class SegmentSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["text", "url", "hashtag", "mention"])
    text = serializers.CharField(trim_whitespace=False)


class PostPreviewSerializer(serializers.Serializer):
    caption = serializers.CharField(trim_whitespace=False)
    weighted_length = serializers.IntegerField(source="counter.weighted_length")
    limit = serializers.IntegerField(source="counter.limit")
    over_by = serializers.IntegerField(source="counter.over_by")
    fits = serializers.BooleanField(source="counter.fits")
    problem = serializers.CharField(allow_null=True)
    segments = serializers.SerializerMethodField()
    handle = serializers.CharField(allow_blank=True)
    poster_url = serializers.CharField(allow_null=True)
    video_url = serializers.CharField(allow_null=True)
    duration_s = serializers.FloatField(source="clip.duration_s", allow_null=True)
    duration = serializers.CharField(help_text="As X shows it on the video, m:ss.")
    ai_label = serializers.CharField(allow_blank=True, help_text="The label X shows on AI-made media, if set.")

    @extend_schema_field(SegmentSerializer(many=True))
    def get_segments(self, preview) -> list[dict[str, str]]:
        return [{"kind": kind, "text": text} for kind, text in preview.runs]


# One post as the export's row (the JSON form of the CSV): every column a string.
ExportRowSerializer = type("ExportRowSerializer", (serializers.Serializer,),
                           {column: serializers.CharField(allow_blank=True) for column in COLUMNS})
