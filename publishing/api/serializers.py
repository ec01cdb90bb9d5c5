from __future__ import annotations

from rest_framework import serializers

from accounts.api.base import FIXED_HELP, VisibleRelatedField
from campaigns.models import CaptionTemplate
from generation.models import Clip
from publishing.models import Post, XAccount


class XAccountSerializer(serializers.ModelSerializer):
    """Read-only view of an account: token fields are never part of it."""

    class Meta:
        model = XAccount
        fields = [
            "id", "workspace", "handle", "x_user_id", "auth_kind", "status", "status_reason", "token_expires_at",
            "min_post_gap", "max_lateness", "queue_paused", "created_at",
        ]
        read_only_fields = fields


class PostSerializer(serializers.ModelSerializer):
    clip = VisibleRelatedField(queryset=Clip.objects.all())
    x_account = VisibleRelatedField(queryset=XAccount.objects.all())
    caption = serializers.CharField(required=False, max_length=4000, allow_blank=False)
    caption_template = VisibleRelatedField(
        queryset=CaptionTemplate.objects.all(), required=False, write_only=True,
        help_text="Caption template of the clip's campaign, rendered with the clip's own values and prompt. Without "
                  "it or `caption`, the campaign's default (first) caption template is used.",
    )
    scheduled_at = serializers.DateTimeField(required=False)
    local_time = serializers.DateTimeField(
        required=False, write_only=True, help_text="Naive wall-clock time in the campaign's time zone."
    )
    add_to_queue = serializers.BooleanField(required=False, write_only=True, default=False)
    post_now = serializers.BooleanField(
        required=False, write_only=True, default=False,
        help_text="Due now: the dispatcher sends it on its next tick (the account's spacing applies).")
    # Empty until the post is on X, so not a "uri" in the schema.
    x_post_url = serializers.CharField(read_only=True, help_text="Link to the post on X; empty until it is posted.")
    # A plain string: empty unless the post failed, and the stage names are Post statuses (an enum here would
    # collide with `status` in the schema).
    failed_in = serializers.CharField(
        read_only=True, help_text="The stage a failed post stopped in (uploading, processing, posting), else empty."
    )

    class Meta:
        model = Post
        fields = [
            "id", "clip", "x_account", "caption", "caption_template", "scheduled_at", "local_time", "add_to_queue",
            "post_now", "status", "attempts",
            "x_post_id", "x_post_url", "last_error", "failed_in", "posted_at", "metrics", "metrics_at", "created_at",
        ]
        read_only_fields = [
            "status", "attempts", "x_post_id", "x_post_url", "last_error", "failed_in", "posted_at", "metrics",
            "metrics_at", "created_at",
        ]

    def validate(self, attrs: dict) -> dict:
        if self.instance is None:
            chosen = [k for k in ("scheduled_at", "local_time", "add_to_queue", "post_now") if attrs.get(k)]
            if len(chosen) != 1:
                raise serializers.ValidationError(
                    "Give exactly one of scheduled_at, local_time, add_to_queue or post_now.")
            if attrs.get("caption") and attrs.get("caption_template"):
                raise serializers.ValidationError("Give caption or caption_template, not both.")
        return attrs


class PostWithWarningsSerializer(PostSerializer):
    """A post just scheduled or changed, with what the caller should know about its caption."""

    warnings = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="Warnings, not errors: for example this account already posted or scheduled the same caption, "
                  "which X refuses as a duplicate.")

    class Meta(PostSerializer.Meta):
        fields = [*PostSerializer.Meta.fields, "warnings"]
        read_only_fields = [*PostSerializer.Meta.read_only_fields, "warnings"]


class PostUpdateSerializer(serializers.Serializer):
    """Moving a post in time; its clip and account are fixed (repeating them is allowed, changing them is not)."""

    clip = VisibleRelatedField(queryset=Clip.objects.all(), required=False, help_text=FIXED_HELP)
    x_account = VisibleRelatedField(queryset=XAccount.objects.all(), required=False, help_text=FIXED_HELP)
    scheduled_at = serializers.DateTimeField()
    caption = serializers.CharField(required=False, max_length=4000)
