"""Captions for X: template + variables + hashtags, NFC-normalised, measured by X's weighted length rules."""

from __future__ import annotations

import unicodedata
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError

with warnings.catch_warnings():
    # twitter-text-parser imports pkg_resources, which warns about its own deprecation on import.
    warnings.simplefilter("ignore")
    from twitter_text import parse_tweet

X_TEXT_LIMIT = 280
URL_WEIGHT = 23
_INVISIBLE = frozenset("\x00\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class CaptionMeasure:
    text: str
    weighted_length: int
    limit: int

    @property
    def over_by(self) -> int:
        return max(0, self.weighted_length - self.limit)

    @property
    def fits(self) -> bool:
        return self.weighted_length <= self.limit and bool(self.text.strip())


def normalise(text: str) -> str:
    """X counts and stores NFC text; strip NULs and bidi overrides that could disguise a caption."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if ch not in _INVISIBLE)


def measure(text: str, limit: int = X_TEXT_LIMIT) -> CaptionMeasure:
    text = normalise(text)
    return CaptionMeasure(text=text, weighted_length=parse_tweet(text).weightedLength if text else 0, limit=limit)


def validate_caption(text: str, limit: int = X_TEXT_LIMIT) -> str:
    """The normalised caption, or a ValidationError that says how far over it is and what to do."""
    result = measure(text, limit)
    if not result.text.strip():
        raise ValidationError("Caption is empty: write some text for the post.")
    if result.over_by:
        raise ValidationError(
            f"Caption is {result.weighted_length}/{limit} weighted characters: shorten it by {result.over_by} "
            f"(emoji and CJK count 2, every URL counts {URL_WEIGHT})."
        )
    return result.text


def build_caption(body_renderer, variables: Mapping[str, object], limit: int = X_TEXT_LIMIT) -> str:
    """Render a caption template (anything with `.render(values)`, such as CaptionTemplate) and validate it."""
    return validate_caption(body_renderer.render(dict(variables)), limit)
