from django.contrib import admin

from core.models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at", "interval", "host", "count"]
    search_fields = ["name", "host"]
    readonly_fields = ["name", "beat_at", "interval", "host", "count"]
