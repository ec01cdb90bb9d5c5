"""Small presentation helpers for the dashboard templates."""

from __future__ import annotations

from django import template

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
