"""What a prompt or caption template renders to for chosen variable values, and how long the caption is on X."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from campaigns import templating
from campaigns.models import Campaign, CaptionTemplate
from dashboard.forms.campaigns import parse_variables
from generation.vocabulary import template_texts, warnings_for
from publishing.captions import CaptionMeasure, measure


def messages_of(error: ValidationError) -> str:
    return " ".join(error.messages)


@dataclass
class Preview:
    variables: dict[str, list[str]] = field(default_factory=dict)
    chosen: dict[str, str] = field(default_factory=dict)
    prompt: str | None = None
    caption: str | None = None
    counter: CaptionMeasure | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def choices(self) -> list[tuple[str, list[str], str]]:
        """(name, values, chosen value) per variable, for the value pickers."""
        return [(name, values, self.chosen.get(name, "")) for name, values in self.variables.items()]

    def choose(self, submitted: Mapping[str, str]) -> None:
        for name, values in self.variables.items():
            wanted = submitted.get(f"value_{name}")
            self.chosen[name] = wanted if wanted in values else values[0]

    def measure_caption(self) -> None:
        if self.caption is not None:
            self.counter = measure(self.caption)


def campaign_variables(campaign: Campaign) -> dict[str, list[str]]:
    """Every variable any of the campaign's prompt templates declares, with all their values."""
    merged: dict[str, list[str]] = {}
    for template in campaign.prompt_templates.all():
        for name, values in (template.variables or {}).items():
            known = merged.setdefault(name, [])
            known.extend(v for v in values if v not in known)
    return merged


def prompt_preview(campaign: Campaign, body: str, variables_text: str, submitted: Mapping[str, str]) -> Preview:
    preview = Preview()
    try:
        preview.variables = parse_variables(variables_text)
    except ValidationError as exc:
        preview.errors.append(messages_of(exc))
    preview.choose(submitted)
    preview.warnings = warnings_for(campaign.model_key, template_texts(body, preview.variables))
    try:
        templating.check_declared(body, preview.variables)
        preview.prompt = templating.render(body, preview.chosen)
    except ValidationError as exc:
        preview.errors.append(messages_of(exc))
        return preview
    caption_template = campaign.caption_templates.order_by("pk").first()
    if caption_template is not None:
        try:
            preview.caption = caption_template.render({**preview.chosen, "prompt": preview.prompt})
        except ValidationError as exc:
            preview.errors.append(f"Caption template “{caption_template.name}”: {messages_of(exc)}")
    preview.measure_caption()
    return preview


def caption_preview(campaign: Campaign, body: str, hashtags: str, submitted: Mapping[str, str]) -> Preview:
    preview = Preview(variables=campaign_variables(campaign))
    preview.choose(submitted)
    for template in campaign.prompt_templates.all():
        needed = set(template.variables or {})
        try:
            preview.prompt = template.render({name: preview.chosen[name] for name in needed})
            break
        except (KeyError, ValidationError):
            continue
    try:
        caption = CaptionTemplate(body=body, hashtags=hashtags)
        preview.caption = caption.render({**preview.chosen, "prompt": preview.prompt or ""})
    except ValidationError as exc:
        preview.errors.append(messages_of(exc))
    preview.measure_caption()
    return preview
