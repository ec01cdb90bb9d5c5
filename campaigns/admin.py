from django.contrib import admin

from accounts.admin import AuditedModelAdmin
from campaigns.models import Campaign, CaptionTemplate, PostingSlot, PromptTemplate


class WorkspaceCampaignFilter(admin.RelatedFieldListFilter):
    """Campaign names repeat across workspaces: each choice reads “workspace / campaign”."""

    def field_choices(self, field, request, model_admin) -> list[tuple[int, str]]:
        campaigns = Campaign.objects.select_related("workspace").order_by("workspace__name", "name", "pk")
        return [(c.pk, f"{c.workspace.name} / {c.name}") for c in campaigns]


class PromptTemplateInline(admin.StackedInline):
    model = PromptTemplate
    extra = 0
    readonly_fields = ["created_at", "updated_at"]


class CaptionTemplateInline(admin.StackedInline):
    model = CaptionTemplate
    extra = 0
    readonly_fields = ["created_at", "updated_at"]


class PostingSlotInline(admin.TabularInline):
    model = PostingSlot
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(AuditedModelAdmin):
    list_display = ["name", "workspace", "status", "timezone", "approval_required", "model_key", "created_at"]
    list_filter = ["status", "approval_required", "workspace"]
    search_fields = ["name", "workspace__name"]
    readonly_fields = ["created_at", "updated_at"]
    autocomplete_fields = ["workspace"]
    inlines = [PromptTemplateInline, CaptionTemplateInline, PostingSlotInline]


@admin.register(PromptTemplate)
class PromptTemplateAdmin(AuditedModelAdmin):
    list_display = ["name", "campaign", "updated_at"]
    list_filter = ["campaign__workspace", ("campaign", WorkspaceCampaignFilter)]
    search_fields = ["name", "body", "campaign__name"]
    readonly_fields = ["created_at", "updated_at"]
    autocomplete_fields = ["campaign"]


@admin.register(CaptionTemplate)
class CaptionTemplateAdmin(AuditedModelAdmin):
    list_display = ["name", "campaign", "hashtags", "updated_at"]
    list_filter = ["campaign__workspace", "campaign"]
    search_fields = ["name", "body", "hashtags", "campaign__name"]
    readonly_fields = ["created_at", "updated_at"]
    autocomplete_fields = ["campaign"]


@admin.register(PostingSlot)
class PostingSlotAdmin(AuditedModelAdmin):
    list_display = ["campaign", "weekday", "local_time"]
    list_filter = ["weekday", "campaign__workspace"]
    search_fields = ["campaign__name"]
    autocomplete_fields = ["campaign"]
