from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm

from clipcast.login_throttle import LockoutMessageMixin
from clipcast.models import Heartbeat


class ThrottledAdminAuthenticationForm(LockoutMessageMixin, AdminAuthenticationForm):
    pass


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at", "interval", "host", "count"]
    search_fields = ["name", "host"]
    readonly_fields = ["name", "beat_at", "interval", "host", "count"]


# The admin login checks passwords through the same throttled backend; this form only words the lockout.
admin.site.login_form = ThrottledAdminAuthenticationForm
