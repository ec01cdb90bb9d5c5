from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm

from clipcast.login_throttle import LockoutMessageMixin


class ThrottledAdminAuthenticationForm(LockoutMessageMixin, AdminAuthenticationForm):
    pass


# The admin login checks passwords through the same throttled backend; this form only words the lockout.
admin.site.login_form = ThrottledAdminAuthenticationForm
