from __future__ import annotations

from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import never_cache

from core.models import Heartbeat

WATCHED_HEARTBEATS = ("beat", "dispatcher")


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico whatever the page's link tag says: send them to the static icon."""
    return HttpResponsePermanentRedirect(static("dashboard/favicon.svg"))


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """503 when a periodic process has not beaten within twice its interval: a dead scheduler is never 'ok'."""
    now = timezone.now()
    beats = {hb.name: hb for hb in Heartbeat.objects.filter(name__in=WATCHED_HEARTBEATS)}
    checks = {}
    for name in WATCHED_HEARTBEATS:
        hb = beats.get(name)
        if hb is None:
            checks[name] = {"ok": False, "reason": "never seen"}
        else:
            checks[name] = {
                "ok": not hb.is_stale(now),
                "last": hb.beat_at.isoformat(),
                "age_s": round((now - hb.beat_at).total_seconds(), 1),
            }
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unhealthy", "checks": checks}, status=200 if healthy else 503)
