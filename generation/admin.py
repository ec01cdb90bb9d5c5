"""Clips in the Django admin: provenance read-only, status changed only through the actions (and their services)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from accounts.admin import AuditedModelAdmin
from campaigns.admin import WorkspaceCampaignFilter
from core.admin_actions import Skip, report, tally_each
from core.admin_display import short, utc_column
from generation import services
from generation.models import Clip, ClipNote, ReviewStatus

PROVENANCE_FIELDS = [
    "fingerprint", "timings", "gpu_seconds", "device", "worker", "model_id", "weights_hash", "frames_hash", "versions",
    "performance", "out_of_vocabulary", "frames_note",
    "created_at", "started_at", "heartbeat_at", "finished_at", "attempts",
]
STATE_FIELDS = ["status", "progress", "stage", "error", "cancel_requested", "review_status", "reviewed_by",
                "reviewed_at"]
# The file fields themselves would link to their public storage URL: only the member-only links are shown.
OUTPUT_FIELDS = ["poster_preview", "video_link", "gif_link", "duration_s"]


@admin.register(Clip)
class ClipAdmin(AuditedModelAdmin):
    # Few, short columns: the list must fit a 1280 px screen (progress and seed are on the clip's page).
    list_display = ["id", "thumbnail", "short_prompt", "campaign", "status", "review_status",
                    utc_column("created_at", "Created")]
    list_display_links = ["id", "thumbnail"]
    list_filter = ["status", "review_status", "campaign__workspace", ("campaign", WorkspaceCampaignFilter)]
    search_fields = ["prompt", "campaign__name", "error", "=fingerprint", "worker", "model_id"]
    readonly_fields = PROVENANCE_FIELDS + STATE_FIELDS + OUTPUT_FIELDS
    list_select_related = ["campaign"]
    raw_id_fields = ["prompt_template"]
    autocomplete_fields = ["campaign"]
    fieldsets = [
        (None, {"fields": ["campaign", "prompt_template", "variables", "prompt", "negative_prompt", "render_params",
                           "seed"]}),
        ("State", {"fields": STATE_FIELDS}),
        ("Output", {"fields": OUTPUT_FIELDS}),
        ("Provenance", {"fields": PROVENANCE_FIELDS}),
    ]
    actions = ["rerender", "approve", "reject", "cancel"]

    @admin.display(description="Prompt")
    def short_prompt(self, clip: Clip) -> str:
        return short(clip.prompt, 60)

    @admin.display(description="Poster")
    def thumbnail(self, clip: Clip) -> str:
        if not clip.poster:
            return self.get_empty_value_display()
        return format_html('<img src="{}" alt="" width="64" loading="lazy">', clip.poster_url)

    @admin.display(description="Poster")
    def poster_preview(self, clip: Clip) -> str:
        if not clip.poster:
            return "No poster yet."
        return format_html('<img src="{}" alt="Poster of clip {}" style="max-width: 320px">', clip.poster_url, clip.pk)

    @admin.display(description="Video")
    def video_link(self, clip: Clip) -> str:
        if not clip.video:
            return "No video yet."
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', clip.video_url, clip.video.name)

    @admin.display(description="GIF")
    def gif_link(self, clip: Clip) -> str:
        if not clip.gif:
            return "No GIF yet."
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', clip.gif_url, clip.gif.name)

    @admin.action(description="Re-render selected clips (failed/cancelled in place, succeeded as a new copy)",
                  permissions=["change"])
    def rerender(self, request: HttpRequest, queryset: QuerySet[Clip]) -> None:
        tally = tally_each(queryset, services.rerender_clip)
        report(self, request, tally, "Queued {n} clip{s} for rendering",
               hint="clips still queued or rendering are already on their way")

    def _review(self, request: HttpRequest, queryset: QuerySet[Clip], approve: bool) -> None:
        target = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED

        def review(clip: Clip) -> bool:
            if clip.review_status == target:
                raise Skip(f"already {target.label.lower()}")
            services.review_clip(clip, request.user, approve=approve)
            return True

        tally = tally_each(queryset, review, invalid=lambda clip, _error: clip.status)
        report(self, request, tally, f"{target.label} {{n}} clip{{s}}",
               hint="only a clip that rendered successfully can be reviewed")

    @admin.action(description="Approve selected clips", permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Clip]) -> None:
        self._review(request, queryset, approve=True)

    @admin.action(description="Reject selected clips", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Clip]) -> None:
        self._review(request, queryset, approve=False)

    @admin.action(description="Cancel selected clips", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Clip]) -> None:
        tally = tally_each(queryset, services.cancel_clip)
        report(self, request, tally, "Cancelled {n} clip{s} (rendering ones stop at their next step)",
               hint="only queued or rendering clips can be cancelled")


@admin.register(ClipNote)
class ClipNoteAdmin(admin.ModelAdmin):
    """A clip's review conversation, read-only: it is a record of what people said and decided."""

    list_display = ["clip", "kind", "author", "created_at"]
    list_filter = ["kind"]
    search_fields = ["body", "author__username"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
