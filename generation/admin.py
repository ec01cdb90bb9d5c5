from django.contrib import admin

from generation.models import Clip

PROVENANCE_FIELDS = [
    "fingerprint", "timings", "device", "worker", "model_id", "weights_hash", "versions",
    "created_at", "started_at", "heartbeat_at", "finished_at", "attempts",
]


@admin.register(Clip)
class ClipAdmin(admin.ModelAdmin):
    list_display = ["id", "campaign", "short_prompt", "status", "progress", "review_status", "seed", "created_at"]
    list_filter = ["status", "review_status", "campaign__workspace", "campaign"]
    search_fields = ["prompt", "campaign__name", "error"]
    readonly_fields = PROVENANCE_FIELDS
    list_select_related = ["campaign"]
    raw_id_fields = ["prompt_template", "reviewed_by"]
    autocomplete_fields = ["campaign"]

    @admin.display(description="Prompt")
    def short_prompt(self, clip: Clip) -> str:
        return clip.prompt[:80]
