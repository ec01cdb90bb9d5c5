"""What a closed-vocabulary model can draw: its words, read from the model folder, and the words of a prompt
that fall outside them. A model with no vocabulary entry is open-vocabulary and nothing is ever flagged."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from generation.engine.errors import ModelIncomplete

# Letters and digits, any script; punctuation, underscores and spaces separate words.
_WORD_RE = re.compile(r"[^\W_]+")
OTHER_WORDS = "other words"  # the group of function words and synonyms, too long to repeat in every warning


@dataclass(frozen=True)
class Vocabulary:
    """Groups as the model card names them (label -> words or short phrases) and the set of single words."""

    groups: tuple[tuple[str, tuple[str, ...]], ...]
    words: frozenset[str]

    def unknown(self, texts: Iterable[str]) -> list[str]:
        """Words of `texts` outside the vocabulary, lower-cased, in order of first appearance, each once."""
        seen: dict[str, None] = {}
        for text in texts:
            for word in words_of(text):
                if word not in self.words:
                    seen.setdefault(word)
        return list(seen)

    def describe(self) -> str:
        """The groups that name what the model draws; function words ("other words") are left to the full list."""
        shown = [(name, entries) for name, entries in self.groups if name != OTHER_WORDS] or self.groups
        return "; ".join(f"{name}: {', '.join(entries)}" for name, entries in shown)

    def warning_for(self, texts: Iterable[str], model: str) -> str | None:
        """One sentence for whoever wrote `texts`, or None when the model knows every word."""
        unknown = self.unknown(texts)
        return self.warning(unknown, model) if unknown else None

    def warning(self, unknown: Iterable[str], model: str) -> str:
        quoted = ", ".join(f"“{w}”" for w in unknown)
        return (f"Model {model} was never trained on {quoted}: it will still render, but not what those words say. "
                f"Use its own words ({self.describe()}).")


def words_of(text: str) -> list[str]:
    return _WORD_RE.findall(text.casefold())


def parse_vocabulary(value: Any, label: str) -> Vocabulary | None:
    """`clipcast.json`'s "vocabulary": an object of group label -> list of words or phrases; absent means open."""
    if value is None:
        return None
    problem = f"Model {label!r}: clipcast.json's \"vocabulary\" must map each group name to a list of words"
    if not isinstance(value, Mapping) or not value:
        raise ModelIncomplete(problem + ".")
    groups: list[tuple[str, tuple[str, ...]]] = []
    words: set[str] = set()
    for name, entries in value.items():
        if not isinstance(entries, list) or not all(isinstance(e, str) and words_of(e) for e in entries):
            raise ModelIncomplete(f"{problem}; group {name!r} is not.")
        groups.append((str(name), tuple(entries)))
        for entry in entries:
            words.update(words_of(entry))
    return Vocabulary(groups=tuple(groups), words=frozenset(words))
