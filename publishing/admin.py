from django.contrib import admin

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
    search_fields = ["caption", "x_post_id", "media_id", "last_error"]
    readonly_fields = ["attempts", "media_id", "x_post_id", "x_post_url", "posted_at", "metrics", "metrics_at",
                       "created_at", "updated_at"]
    raw_id_fields = ["clip"]
    autocomplete_fields = ["x_account"]
    list_select_related = ["x_account"]
