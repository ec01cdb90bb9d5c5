"""Render progress as a marketer reads it: percent, stage and a rough time left."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from generation.models import Clip, ClipStatus


def eta_seconds(clip: Clip, now: datetime | None = None) -> int | None:
    """Time left, assuming the rest of the render goes as fast as the part already done; None when unknown."""
    if clip.status != ClipStatus.RENDERING or clip.started_at is None or clip.progress <= 0:
        return None
    if clip.progress >= 100:
        return 0
    elapsed = max(0.0, ((now or timezone.now()) - clip.started_at).total_seconds())
    return round(elapsed * (100 - clip.progress) / clip.progress)


def describe_eta(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds < 5:
        return "almost done"
    if seconds < 90:
        return f"about {seconds} s left"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"


def finished_text(clip: Clip) -> str:
    """A finished render at a glance: 100% and how long it took, or why it stopped."""
    if clip.status != ClipStatus.SUCCEEDED:
        return ""
    if clip.started_at and clip.finished_at:
        seconds = max(0.0, (clip.finished_at - clip.started_at).total_seconds())
        return f"100% · rendered in {seconds:.0f} s" if seconds >= 1 else "100% · rendered in under a second"
    return "100% · rendered"


def progress_text(clip: Clip, now: datetime | None = None) -> str:
    if clip.status == ClipStatus.QUEUED:
        return "Queued: waiting for a render worker" + (f" ({clip.stage})" if clip.stage else "")
    parts = [f"{clip.progress}%"]
    if clip.stage:
        parts.append(clip.stage)
    eta = describe_eta(eta_seconds(clip, now))
    if eta:
        parts.append(eta)
    if clip.cancel_requested:
        parts.append("cancelling…")
    return " · ".join(parts)
