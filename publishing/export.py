"""Posts with their metrics as rows for a spreadsheet, safe to open: a cell that a spreadsheet would read as a
formula (it starts with = + - @, a tab or a carriage return) is prefixed with a quote."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from publishing.metrics import METRIC_KEYS
from publishing.models import Post

MAX_EXPORT_ROWS = 10_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ("post", "campaign", "account", "clip", "status", "scheduled_at", "posted_at", "caption", "x_post_url",
           *METRIC_KEYS, "metrics_at")


def safe_cell(value: object) -> str:
    """The value as a spreadsheet cell that is never evaluated as a formula (CSV injection)."""
    text = "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def export_rows(posts: Iterable[Post]) -> list[dict[str, str]]:
    """One row per post, every cell already made safe; UTC times in ISO 8601."""
    rows = []
    for post in posts:
        metrics = post.metrics or {}
        row = {
            "post": post.pk, "campaign": post.clip.campaign.name, "account": f"@{post.x_account.handle}",
            "clip": post.clip_id, "status": post.status, "scheduled_at": post.scheduled_at,
            "posted_at": post.posted_at, "caption": post.caption, "x_post_url": post.x_post_url,
            **{key: metrics.get(key) for key in METRIC_KEYS}, "metrics_at": post.metrics_at,
        }
        rows.append({column: safe_cell(row[column]) for column in COLUMNS})
    return rows


def to_csv(rows: Iterable[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
