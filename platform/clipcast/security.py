"""Security headers Django 5.2 does not set itself, and a brake on login brute force."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage, storages
from django.http import HttpRequest, HttpResponse

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
    """After LOGIN_MAX_FAILURES failed logins for one username or one address, refuse for a while."""

    def _keys(self) -> list[str]:
        username = (self.request.POST.get("username") or "").strip().lower()[:150]
        address = self.request.META.get("REMOTE_ADDR", "")
        return [f"login-fail:user:{username}", f"login-fail:ip:{address}"]

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if any((cache.get(key) or 0) >= settings.LOGIN_MAX_FAILURES for key in self._keys()):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, "Too many failed logins. Wait 15 minutes, or ask an owner to reset your password.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        for key in self._keys():
            cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)
        return super().form_invalid(form)
