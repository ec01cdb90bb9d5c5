"""X's text rules (twitter-text): weighted length and validity. No Django, so campaigns and publishing share it."""

from __future__ import annotations

import unicodedata
import warnings

with warnings.catch_warnings():
    # twitter-text-parser imports pkg_resources, which warns about its own deprecation on import.
    warnings.simplefilter("ignore")
    from twitter_text import parse_tweet
    from twitter_text.parse_tweet import ParsedResult

X_TEXT_LIMIT = 280
URL_WEIGHT = 23


def nfc(text: str) -> str:
    """X counts and stores NFC text."""
    return unicodedata.normalize("NFC", text)


def parse(text: str) -> ParsedResult:
    """twitter-text's own verdict on a post's text (configuration v3, the one X uses: emoji count 2)."""
    return parse_tweet(text)


def weighted_length(text: str) -> int:
    return parse(text).weightedLength if text else 0
