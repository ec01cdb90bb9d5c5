"""Security headers Django 5.2 does not set itself, and a brake on login brute force."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.files.storage import FileSystemStorage, storages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from clipcast.login_throttle import ThrottledAuthenticationForm

# Everything the dashboard needs is served by us; no inline script, no third-party origin.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI (self-hosted by drf-spectacular-sidecar) boots from an inline script.
DOCS_CSP = DEFAULT_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


def media_origin() -> str:
    """The bucket's origin when media are in one (members' pages load presigned URLs from it), else ""."""
    storage = storages["default"]  # one instance per process, built anew when the settings change (tests)
    origin = getattr(storage, "_clipcast_origin", None)
    if origin is None:
        if isinstance(storage, FileSystemStorage):
            origin = ""
        else:
            parts = urlsplit(storage.url("clips/origin"))
            origin = f"{parts.scheme}://{parts.netloc}"
        storage._clipcast_origin = origin
    return origin


def default_csp() -> str:
    origin = media_origin()
    if not origin:
        return DEFAULT_CSP
    return DEFAULT_CSP.replace("img-src 'self' data: blob:", f"img-src 'self' data: blob: {origin}").replace(
        "media-src 'self' blob:", f"media-src 'self' blob: {origin}")


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path.startswith("/api/docs")
            csp = DOCS_CSP if docs else settings.CONTENT_SECURITY_POLICY or default_csp()
            response["Content-Security-Policy"] = csp
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class ThrottledLoginView(auth_views.LoginView):
    """The dashboard login; the throttle itself is in the authentication backend (clipcast.login_throttle)."""

    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        if getattr(self.request, "login_locked_out", False):
            response.status_code = 429
        return response


class AdminNulQueryMiddleware:
    """The admin's list filters hand query values to PostgreSQL as they are, and its text cannot hold NUL: such a
    filter would be a 500. No stored value contains NUL, so the address is refused with what to fix instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/admin/") and any(
            "\x00" in key + "".join(values) for key, values in request.GET.lists()
        ):
            return HttpResponseBadRequest("This address has a NUL character (%00) in its query: remove it.",
                                          content_type="text/plain; charset=utf-8")
        return self.get_response(request)
