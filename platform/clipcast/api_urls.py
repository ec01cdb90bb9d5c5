"""Everything under /api/: each app's routes, the OpenAPI schema and its Swagger UI."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


@csrf_exempt  # it changes nothing, and a CSRF failure page would be HTML again
def not_found(request: HttpRequest, rest: str) -> JsonResponse:
    """API clients get JSON for an unknown address too (e.g. a non-numeric id), never the site's HTML 404 page."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("campaigns.api.urls")),
    path("", include("generation.api.urls")),
    path("", include("publishing.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Last, and only for addresses ending in "/", so APPEND_SLASH still redirects /api/clips to /api/clips/.
    re_path(r"^(?P<rest>.*/)$", not_found),
]
