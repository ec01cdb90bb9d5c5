"""Admin list columns shared by the apps: times labelled as UTC, long text cut to fit a 1280 px screen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from django.contrib import admin
from django.utils.text import Truncator


def utc_column(field: str, label: str) -> Callable[[object], str | None]:
    """A sortable list column showing `field` as “2026-03-01 14:30” under the header “`label` (UTC)”.

    The admin shows server time (UTC) while the dashboard shows each campaign's zone: the header says which."""

    @admin.display(description=f"{label} (UTC)", ordering=field)
    def column(obj: object) -> str | None:
        value = getattr(obj, field)
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else None

    column.__name__ = f"{field}_utc"
    return column


def short(text: str, length: int = 60) -> str:
    return Truncator(text or "").chars(length)
