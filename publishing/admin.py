"""X accounts and posts in the Django admin; post status changes only through the actions (and their services)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin_actions import report, tally_each
from publishing import services
from publishing.models import Post, XAccount


@admin.register(XAccount)
class XAccountAdmin(admin.ModelAdmin):
    list_display = ["handle", "workspace", "auth_kind", "status", "token_expires_at", "created_at"]
    list_filter = ["auth_kind", "status", "workspace"]
    search_fields = ["handle", "x_user_id", "workspace__name"]
    # Tokens never appear here: they are set through the connect flow or the API, encrypted at rest.
    exclude = ["access_token", "access_token_secret", "refresh_token"]
    readonly_fields = ["created_at", "updated_at"]
    autocomplete_fields = ["workspace"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["id", "x_account", "status", "scheduled_at", "posted_at", "attempts", "x_post_url"]
    list_filter = ["status", "x_account__workspace", "clip__campaign"]
    search_fields = ["caption", "x_post_id", "media_id", "last_error", "x_account__handle"]
    readonly_fields = ["status", "attempts", "media_id", "x_post_id", "x_post_url", "last_error", "failed_in",
                       "posted_at", "metrics", "metrics_at", "created_at", "updated_at"]
    raw_id_fields = ["clip"]
    autocomplete_fields = ["x_account"]
    list_select_related = ["x_account"]
    actions = ["publish_now", "cancel", "retry"]

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
