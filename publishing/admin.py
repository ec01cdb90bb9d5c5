"""X accounts and posts in the Django admin; post status changes only through the actions (and their services)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from accounts.admin import AuditedModelAdmin
from campaigns.admin import WorkspaceCampaignFilter
from core.admin_actions import report, tally_each
from core.admin_display import short, utc_column
from publishing import services
from publishing.models import Experiment, Post, PostStatus, XAccount


@admin.register(XAccount)
class XAccountAdmin(AuditedModelAdmin):
    list_display = ["handle", "workspace", "auth_kind", "status", "token_expires_at", "created_at"]
    list_filter = ["auth_kind", "status", "workspace"]
    search_fields = ["handle", "x_user_id", "workspace__name"]
    # Tokens never appear here: they are set through the connect flow or the API, encrypted at rest.
    exclude = ["access_token", "access_token_secret", "refresh_token"]
    readonly_fields = ["created_at", "updated_at"]
    autocomplete_fields = ["workspace"]


LOCKED_ONCE_SENT = ["clip", "x_account", "caption", "scheduled_at"]


@admin.register(Post)
class PostAdmin(AuditedModelAdmin):
    # Few, short columns: the list must fit a 1280 px screen (the full caption and URL are on the post's page).
    list_display = ["id", "short_caption", "x_account", "status", utc_column("scheduled_at", "Scheduled"),
                    utc_column("posted_at", "Posted"), "x_link"]
    list_filter = ["status", "x_account__workspace", ("clip__campaign", WorkspaceCampaignFilter)]
    search_fields = ["caption", "x_post_id", "media_id", "last_error", "x_account__handle"]
    readonly_fields = ["status", "attempts", "media_id", "x_post_id", "x_post_url", "last_error", "failed_in",
                       "posted_at", "metrics", "metrics_at", "created_at", "updated_at"]
    raw_id_fields = ["clip"]
    autocomplete_fields = ["x_account"]
    list_select_related = ["x_account"]
    actions = ["publish_now", "cancel", "retry"]

    def get_readonly_fields(self, request: HttpRequest, obj: Post | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != PostStatus.SCHEDULED:
            # It has left (or is leaving) for X: editing the caption or time now would misdescribe what went out.
            fields += LOCKED_ONCE_SENT
        return fields

    @admin.display(description="Caption")
    def short_caption(self, post: Post) -> str:
        return short(post.caption, 50)

    @admin.display(description="On X")
    def x_link(self, post: Post) -> str:
        if not (post.x_post_url or "").startswith(("https://", "http://")):
            return self.get_empty_value_display()
        return format_html('<a href="{}" target="_blank" rel="noopener">View</a>', post.x_post_url)

    @admin.action(description="Publish selected posts now", permissions=["change"])
    def publish_now(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        tally = tally_each(queryset, services.publish_now)
        report(self, request, tally,
               f"Made {{n}} post{{s}} due now: the dispatcher sends them within {settings.DISPATCH_INTERVAL} s, "
               "spaced by each account's minimum gap",
               hint="only a scheduled post can be published now")

    @admin.action(description="Cancel selected posts", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        tally = tally_each(queryset, services.cancel_post)
        report(self, request, tally, "Cancelled {n} post{s}",
               hint="only a post that has not started going out can be cancelled")

    @admin.action(description="Retry selected failed posts now", permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        tally = tally_each(queryset, services.retry_post,
                           invalid=lambda _post, error: f"blocked: {error.messages[0].rstrip('.')}")
        report(self, request, tally, "Put {n} failed post{s} back on the schedule, due now",
               hint="only a failed post can be retried")


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    """Read-only: experiments start, fill and decide through the dashboard and the API (their services)."""

    list_display = ["name", "campaign", "x_account", "status", "winner_variables", "confidence", "decided_at"]
    list_filter = ["status"]
    search_fields = ["name", "campaign__name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
