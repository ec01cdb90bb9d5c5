"""Small presentation helpers for the dashboard templates."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from dashboard.progress import finished_text, progress_text
from generation.models import Clip

register = template.Library()


@register.filter
def clip_progress(clip: Clip) -> str:
    return progress_text(clip)


@register.filter
def clip_finished(clip: Clip) -> str:
    return finished_text(clip)


@register.filter
def metric(metrics: dict | None, key: str) -> object:
    """A metric from a post's metrics JSON, or an en dash when X has not reported it."""
    value = (metrics or {}).get(key)
    return "\u2013" if value is None else value


@register.filter
def http_url(url: str | None) -> str:
    """The URL if it is http(s), else empty: a stored link must never become a javascript: href."""
    return url if url and url.lower().startswith(("https://", "http://")) else ""


@register.filter
def timesince_or_until(when: datetime | None) -> str:
    """“in 5 minutes” or “5 minutes ago” (a scheduled post may be a little overdue while workers catch up)."""
    if when is None:
        return ""
    now = timezone.now()
    return f"in {timeuntil(when, now)}" if when > now else f"{timesince(when, now)} ago (due)"
