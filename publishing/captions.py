"""Captions for X: template + variables + hashtags, NFC-normalised, checked by twitter-text's own rules.

The text is not otherwise changed: X counts the bidi controls (each weighs 2) and accepts them, so they are kept
and counted; characters X refuses (U+FFFE, U+FFFF, ...) and NUL are refused with a message, never removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from core.xtext import URL_WEIGHT, X_TEXT_LIMIT, invalid_characters, nfc, parse

__all__ = ["URL_WEIGHT", "X_TEXT_LIMIT", "CaptionMeasure", "build_caption", "measure", "normalise",
           "validate_caption"]


@dataclass(frozen=True)
class CaptionMeasure:
    text: str
    weighted_length: int
    limit: int
    valid: bool = True  # twitter-text's verdict: no refused characters and within 280

    @property
    def over_by(self) -> int:
        return max(0, self.weighted_length - self.limit)

    @property
    def refused_characters(self) -> list[str]:
        return ["\x00"] * ("\x00" in self.text) + invalid_characters(self.text)

    @property
    def fits(self) -> bool:
        return self.valid and self.weighted_length <= self.limit and bool(self.text.strip())


def normalise(text: str) -> str:
    """X counts and stores NFC text."""
    return nfc(text)


def measure(text: str, limit: int = X_TEXT_LIMIT, version: int = 3) -> CaptionMeasure:
    text = normalise(text)
    if not text:
        return CaptionMeasure(text=text, weighted_length=0, limit=limit, valid=False)
    result = parse(text, version)
    # The parser's own verdict, less its length rule (checked against `limit`), plus NUL, which it lets through.
    valid = result.valid or (result.weightedLength > X_TEXT_LIMIT and not invalid_characters(text))
    return CaptionMeasure(text=text, weighted_length=result.weightedLength, limit=limit,
                          valid=valid and "\x00" not in text)


def validate_caption(text: str, limit: int = X_TEXT_LIMIT) -> str:
    """The normalised caption, or a ValidationError that says what X would refuse and what to do."""
    result = measure(text, limit)
    if not result.text.strip():
        raise ValidationError("Caption is empty: write some text for the post.")
    if result.refused_characters:
        shown = ", ".join(f"U+{ord(ch):04X}" for ch in result.refused_characters)
        raise ValidationError(f"Caption contains characters X refuses ({shown}): remove them.")
    if result.over_by:
        raise ValidationError(
            f"Caption is {result.weighted_length}/{limit} weighted characters: shorten it by {result.over_by} "
            f"(emoji and CJK count 2, every URL counts {URL_WEIGHT})."
        )
    if not result.valid:
        raise ValidationError("X would refuse this caption: check it for unusual characters.")
    return result.text


def build_caption(body_renderer, variables: Mapping[str, object], limit: int = X_TEXT_LIMIT) -> str:
    """Render a caption template (anything with `.render(values)`, such as CaptionTemplate) and validate it."""
    return validate_caption(body_renderer.render(dict(variables)), limit)
