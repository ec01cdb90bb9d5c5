from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from clipcast.security import ThrottledLoginView
from clipcast.views import favicon, healthz
from generation.views import clip_media

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/", include("clipcast.api_urls")),
    # Members only; nothing serves MEDIA_ROOT (or the bucket) publicly.
    re_path(r"^clips/(?P<pk>[0-9]+)/media/(?P<kind>video|gif|poster)$", clip_media, name="clip_media"),
    path("", include("dashboard.urls")),
]

