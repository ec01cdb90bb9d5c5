"""Prompt and caption templates: `{name}` placeholders and nothing else.

Python's str.format would allow `{a.b}`, `{a[0]}`, `{0}` and format specs, which reach into objects;
the Django template engine is far more than a marketer needs. This grammar is deliberately tiny:
`{identifier}` is a placeholder, `{{` and `}}` are literal braces, anything else inside braces is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError

NAME_PATTERN = r"[A-Za-z][A-Za-z0-9_]{0,63}"
NAME_RE = re.compile(rf"^{NAME_PATTERN}$")
_TOKEN_RE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
MAX_TEMPLATE_LENGTH = 10_000
UNKNOWN_VARIABLES = "unknown_variables"  # the code of check_declared's error, so a form can tell it apart
# Bidirectional overrides and isolates make text display differently from what it says (Trojan Source).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class _Piece:
    literal: str = ""
    name: str | None = None


def quote_names(names: Iterable[str]) -> str:
    return ", ".join(f"{{{n}}}" for n in names)


def parse(body: str) -> list[_Piece]:
    """Split a template into literal text and placeholders, refusing anything but `{name}`."""
    if len(body) > MAX_TEMPLATE_LENGTH:
        raise ValidationError(f"Template is {len(body):,} characters long; the limit is {MAX_TEMPLATE_LENGTH:,}.")
    if "\x00" in body:
        raise ValidationError("Template contains a NUL character: remove it.")
    if any(ch in BIDI_CONTROLS for ch in body):
        raise ValidationError("Template contains invisible text-direction control characters: remove them.")
    pieces: list[_Piece] = []
    pos = 0
    for match in _TOKEN_RE.finditer(body):
        if match.start() > pos:
            pieces.append(_Piece(literal=body[pos : match.start()]))
        token = match.group(0)
        if token in ("{{", "}}"):
            pieces.append(_Piece(literal=token[0]))
        elif token in ("{", "}"):
            raise ValidationError(
                f"Unmatched {token!r} at position {match.start()}: write {{{{ or }}}} for a literal brace."
            )
        else:
            name = match.group(1).strip()
            if not NAME_RE.match(name):
                raise ValidationError(
                    f"Placeholder {token!r} is not allowed: use {{name}} with letters, digits and underscores "
                    "(starting with a letter); attribute access, indexes, positions and format specs are refused."
                )
            pieces.append(_Piece(name=name))
        pos = match.end()
    if pos < len(body):
        pieces.append(_Piece(literal=body[pos:]))
    return pieces


def placeholders(body: str) -> list[str]:
    """Placeholder names in order of first appearance."""
    seen: dict[str, None] = {}
    for piece in parse(body):
        if piece.name is not None:
            seen.setdefault(piece.name)
    return list(seen)


def check_declared(body: str, declared: Iterable[str]) -> None:
    """Every placeholder must be a declared variable."""
    unknown = [n for n in placeholders(body) if n not in set(declared)]
    if unknown:
        raise ValidationError(
            f"Unknown variable(s) {quote_names(unknown)}: declare them or remove them from the template.",
            code=UNKNOWN_VARIABLES,
        )


def render(body: str, values: Mapping[str, object]) -> str:
    """Fill placeholders; every placeholder needs a value, and values are inserted verbatim (never re-parsed)."""
    pieces = parse(body)
    missing = [p.name for p in pieces if p.name is not None and p.name not in values]
    if missing:
        missing = list(dict.fromkeys(missing))
        raise ValidationError(f"Missing value(s) for {quote_names(missing)}.")
    return "".join(p.literal if p.name is None else str(values[p.name]) for p in pieces)
