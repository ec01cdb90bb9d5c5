"""X's text rules (twitter-text): weighted length and validity. No Django, so campaigns and publishing share it."""

from __future__ import annotations

import re
import unicodedata
import warnings

with warnings.catch_warnings():
    # twitter-text-parser imports pkg_resources, which warns about its own deprecation on import.
    warnings.simplefilter("ignore")
    from twitter_text import parse_tweet
    from twitter_text.config import config
    from twitter_text.extract_urls import extract_urls_with_indices
    from twitter_text.parse_tweet import ParsedResult
    from twitter_text.regexp.invalid_chars import invalid_chars

X_TEXT_LIMIT = 280
URL_WEIGHT = 23


def nfc(text: str) -> str:
    """X counts and stores NFC text."""
    return unicodedata.normalize("NFC", text)


def parse(text: str, version: int = 3) -> ParsedResult:
    """twitter-text's own verdict on a post's text: weighted length and validity (length and characters).

    Version 3 is what X uses (an emoji sequence counts 2); version 2 counts each code point and is kept only
    because twitter-text's own conformance cases for weighted length are written for it.
    """
    if version == 3:
        return parse_tweet(text)
    return parse_tweet(text, {**config[f"version{version}"], "emoji_parsing_enabled": False})


def weighted_length(text: str) -> int:
    return parse(text).weightedLength if text else 0


def invalid_characters(text: str) -> list[str]:
    """The characters X refuses in a post (U+FFFE, U+FEFF, U+FFFF and the like), each once, in order."""
    return list(dict.fromkeys(m.group(0) for m in invalid_chars.finditer(text)))


# X links these in a post: #hashtags and $cashtags (not after a letter, digit or &), @mentions (not after a letter,
# digit or an e-mail's local part).
_TAG = re.compile(r"(?<![\w&])([#\uff03][^\W_][\w]*|\$[A-Za-z]{1,6}(?![\w]))|(?<![\w@.!#$%&*+/=?^`{|}~-])(@\w{1,15})")


def segments(text: str) -> list[tuple[str, str]]:
    """The post's text as (kind, text) runs, kind one of "text", "url", "hashtag", "mention", so a preview can
    style what X turns into links. URLs are found by twitter-text itself."""
    found = [(u["indices"][0], u["indices"][1], "url") for u in extract_urls_with_indices(text)]
    for match in _TAG.finditer(text):
        start, end = match.span()
        if not any(s <= start < e for s, e, _ in found):
            found.append((start, end, "hashtag" if match.group(1) else "mention"))
    runs: list[tuple[str, str]] = []
    position = 0
    for start, end, kind in sorted(found):
        if start > position:
            runs.append(("text", text[position:start]))
        runs.append((kind, text[start:end]))
        position = end
    if position < len(text):
        runs.append(("text", text[position:]))
    return runs
