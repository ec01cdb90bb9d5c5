"""Warnings for prompts a closed-vocabulary model cannot draw, before anything renders.

A warning, never a refusal: the model still renders (an unknown word is split into pieces the model learned to
ignore), but the clip will not show what the word says, so whoever wrote it is told and the clip is flagged.
"""

from __future__ import annotations

from collections.abc import Iterable

from campaigns import templating
from campaigns.models import PromptTemplate
from generation import engine
from generation.rendering import registry


def _named_vocabulary(model_key: str | None) -> tuple[str, engine.Vocabulary | None]:
    try:
        return registry().vocabulary(model_key)
    except engine.EngineError:  # an unusable key: render validation reports it
        return str(model_key), None


def closed_vocabulary(model_key: str | None) -> engine.Vocabulary | None:
    """What to show where prompts are written: the model's word groups, or None for an open-vocabulary model."""
    return _named_vocabulary(model_key)[1]


def warnings_for(model_key: str | None, texts: Iterable[str]) -> list[str]:
    name, vocabulary = _named_vocabulary(model_key)
    warning = vocabulary.warning_for(texts, repr(name)) if vocabulary is not None else None
    return [warning] if warning else []


def template_texts(body: str, variables: dict[str, list[str]]) -> list[str]:
    """What a prompt template can put in a prompt: its literal text and every declared value."""
    try:
        literal = [piece.literal for piece in templating.parse(body) if piece.name is None]
    except Exception:  # an unparsable body is reported by the template's own validation
        literal = []
    return [*literal, *(value for values in (variables or {}).values() for value in values)]


def prompt_template_warnings(template: PromptTemplate) -> list[str]:
    return warnings_for(template.campaign.model_key, template_texts(template.body, template.variables or {}))
