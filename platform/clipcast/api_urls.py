"""Everything under /api/: each app's routes, the OpenAPI schema and its Swagger UI."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("campaigns.api.urls")),
    path("", include("generation.api.urls")),
    path("", include("publishing.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
