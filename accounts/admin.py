from django.contrib import admin
from django.db import transaction

from accounts import audit
from accounts.models import AuditEvent, Invitation, Membership, Notification, Workspace


class AuditedModelAdmin(admin.ModelAdmin):
    """Changes made in the admin go into the audit log like any other: the object's own save and delete, and the
    rows of its inlines (a workspace's memberships, a campaign's templates and slots)."""

    def save_model(self, request, obj, form, change) -> None:
        def save():
            super(AuditedModelAdmin, self).save_model(request, obj, form, change)
            return obj

        audit.audited_save(obj if change else None, save)

    def delete_model(self, request, obj) -> None:
        with transaction.atomic():
            audit.record("deleted", obj, audit.diff(audit.snapshot(obj), {}))
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change) -> None:
        with transaction.atomic():
            for deleted in formset.deleted_forms:
                if deleted.instance.pk is not None:
                    audit.record("deleted", deleted.instance, audit.diff(audit.snapshot(deleted.instance), {}))
            before = {f.instance.pk: audit.snapshot(audit.stored(f.instance)) for f in formset.initial_forms
                      if f.instance.pk is not None and f not in formset.deleted_forms}
            super().save_formset(request, form, formset, change)
            for obj in formset.new_objects:
                audit.record("created", obj, audit.created(obj))
            for obj, _ in formset.changed_objects:
                changes = audit.diff(before.get(obj.pk, {}), audit.snapshot(obj))
                if changes:
                    audit.record("updated", obj, changes)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["created_at"]


@admin.register(Workspace)
class WorkspaceAdmin(AuditedModelAdmin):
    list_display = ["name", "slug", "timezone", "monthly_render_quota_seconds", "created_at"]
    list_filter = ["timezone"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role", "workspace"]
    search_fields = ["user__username", "user__email", "workspace__name"]
    autocomplete_fields = ["user", "workspace"]
    readonly_fields = ["created_at"]


@admin.register(Invitation)
class InvitationAdmin(AuditedModelAdmin):
    list_display = ["invitee", "workspace", "role", "status", "invited_by", "created_at", "expires_at"]
    list_filter = ["status", "role", "workspace"]
    search_fields = ["invitee", "workspace__name"]
    raw_id_fields = ["user", "invited_by"]
    readonly_fields = ["token_hash", "created_at", "responded_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The log is append-only here too: administrators read every workspace's events and change none."""

    list_display = ["at", "workspace", "actor_name", "action", "object_type", "object_id", "object_repr"]
    list_filter = ["action", "object_type", "workspace"]
    search_fields = ["actor_name", "object_repr", "object_id"]
    date_hierarchy = "at"
    list_select_related = ["workspace"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "message", "created_at", "read_at"]
    list_filter = ["read_at"]
    search_fields = ["user__username", "message"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
