"""Server-wide knobs, adjustable at runtime through POST /_sandbox/config."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
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
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < math.inf:
                raise ValueError(f"{name} must be a non-negative finite number.")
            setattr(self, name, type(current)(value))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EngagementRule:
    text_contains: str
    like_rate: float


@dataclass
class Audience:
    """How the sandbox's pretend audience reacts: impressions grow with a post's age, likes are a share of them.
    Rules favour posts whose text contains a phrase (the first matching rule wins), so a test can make one variant
    of an experiment the better one. Adjustable through POST /_sandbox/audience; DELETE restores the defaults."""

    impressions_per_sec: float = 3.0
    like_rate: float = 0.04
    rules: list[EngagementRule] = field(default_factory=list)

    def like_rate_for(self, text: str) -> float:
        for rule in self.rules:
            if rule.text_contains in text:
                return rule.like_rate
        return self.like_rate

    def update(self, values: dict[str, Any]) -> None:
        known = {"impressions_per_sec", "like_rate", "rules"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown audience field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
        # Everything is checked before anything changes: a refused update leaves the audience as it was.
        rates = {name: _rate(name, values[name], upper=None if name == "impressions_per_sec" else 1)
                 for name in ("impressions_per_sec", "like_rate") if name in values}
        parsed = self.rules
        if "rules" in values:
            rules = values["rules"]
            if not isinstance(rules, list):
                raise ValueError("rules must be a list of {text_contains, like_rate}.")
            parsed = []
            for rule in rules:
                if not isinstance(rule, dict) or not isinstance(rule.get("text_contains"), str) \
                        or not rule["text_contains"]:
                    raise ValueError("Each rule needs a non-empty text_contains and a like_rate.")
                parsed.append(EngagementRule(rule["text_contains"], _rate("like_rate", rule.get("like_rate"), 1)))
        for name, rate in rates.items():
            setattr(self, name, rate)
        self.rules = parsed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rate(name: str, value: object, upper: float | None) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < math.inf \
            or (upper and value > upper):
        bound = f" and at most {upper}" if upper else ""
        raise ValueError(f"{name} must be a non-negative finite number{bound}.")
    return float(value)
