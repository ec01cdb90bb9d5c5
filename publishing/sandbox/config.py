"""Server-wide knobs, adjustable at runtime through POST /_sandbox/config."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class Config:
    processing_secs: float = 3.0  # how long finalized media stays pending/in_progress
    access_token_ttl: int = 7200  # OAuth 2.0 access tokens live 2 hours on X
    max_video_bytes: int = 512 * 1024 * 1024
    media_expires_secs: float = 86400  # uploaded media must be posted within this time
    duplicate_window_secs: int = 24 * 3600
    default_post_limit: int = 100  # POST /2/tweets per user per window
    default_post_window_secs: int = 900
    default_daily_post_limit: int = 10000  # X's free tier allows far fewer: create such accounts to test it
    # X's user timelines are eventually consistent: a new post can be missing from GET /2/users/{id}/tweets for a
    # while after its create answered (lookups by id see it at once). Per account on POST /_sandbox/accounts.
    default_timeline_lag_secs: float = 0.0

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"Unknown config field {name!r}; known: {', '.join(sorted(known))}.")
            current = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative number.")
            setattr(self, name, type(current)(value))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
