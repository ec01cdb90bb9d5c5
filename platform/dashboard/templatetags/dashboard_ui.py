"""Small presentation helpers for the dashboard templates."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from core.urls import reverse_pk
from dashboard.progress import finished_text, progress_text
from generation.models import Clip

register = template.Library()

@register.simple_tag
def pk_url(viewname: str, pk: int) -> str:
    """`{% url viewname pk %}` for a route taking one integer, without a reverse() per link (see core.urls)."""
    return reverse_pk(viewname, pk)


@register.filter
def clip_progress(clip: Clip) -> str:
    return progress_text(clip)


@register.filter
def clip_finished(clip: Clip) -> str:
    return finished_text(clip)


TIMING_LABELS = {
    "queue_wait_s": "Waiting in queue", "load_s": "Loading the model", "denoise_s": "Denoising",
    "decode_s": "Decoding frames", "encode_s": "Encoding the video", "total_s": "Render in total",
    "step_s": "Per denoising step",
}


@register.filter
def timing_rows(timings: dict | None) -> list[tuple[str, float]]:
    """A clip's stage timings as (label, seconds), in pipeline order, without stages that did not run."""
    timings = timings or {}
    known = [(label, timings[key]) for key, label in TIMING_LABELS.items() if timings.get(key) is not None]
    others = [(key.removesuffix("_s").replace("_", " ").capitalize(), value) for key, value in timings.items()
              if key not in TIMING_LABELS and isinstance(value, int | float)]
    return known + others


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
    """“in 5 minutes”, “now”, or “any moment now (due 5 minutes ago)”: a due post waits for the next dispatch."""
    if when is None:
        return ""
    now = timezone.now()
    if when > now:
        return f"in {timeuntil(when, now)}"
    if now - when < timedelta(minutes=1):
        return "now"
    return f"any moment now (due {timesince(when, now)} ago)"
