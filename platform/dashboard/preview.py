"""What a prompt or caption template renders to for chosen variable values, and how long the caption is on X."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from campaigns import templating
from campaigns.models import Campaign, CaptionTemplate, PromptTemplate
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
    caption_template: CaptionTemplate | None = None  # the one a prompt template's preview renders (the default)
    prompt_templates: list[PromptTemplate] = field(default_factory=list)  # a caption preview picks one of them
    prompt_template: PromptTemplate | None = None

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


def prompt_preview(campaign: Campaign, body: str, variables_text: str, submitted: Mapping[str, str]) -> Preview:
    preview = Preview()
    try:
        preview.variables = parse_variables(variables_text)
    except ValidationError as exc:
        # Only the variables' own error: checking the body against variables that did not parse would call every
        # placeholder unknown.
        preview.errors.append(messages_of(exc))
        return preview
    preview.choose(submitted)
    preview.warnings = warnings_for(campaign.model_key, template_texts(body, preview.variables))
    try:
        templating.check_declared(body, preview.variables)
        preview.prompt = templating.render(body, preview.chosen)
    except ValidationError as exc:
        preview.errors.append(messages_of(exc))
        return preview
    caption_template = preview.caption_template = campaign.default_caption_template()
    if caption_template is not None:
        try:
            preview.caption = caption_template.render({**preview.chosen, "prompt": preview.prompt})
        except ValidationError as exc:
            preview.errors.append(f"Caption template “{caption_template.name}”: {messages_of(exc)}")
    preview.measure_caption()
    return preview


def caption_preview(campaign: Campaign, body: str, hashtags: str, submitted: Mapping[str, str]) -> Preview:
    """The caption as one clip of one prompt template would get it: that template's values and its prompt, never
    values or a prompt from another template."""
    templates = list(campaign.prompt_templates.all())
    wanted = submitted.get("prompt_template")
    template = next((t for t in templates if str(t.pk) == wanted), templates[0] if templates else None)
    preview = Preview(variables=dict(template.variables or {}) if template else {}, prompt_templates=templates,
                      prompt_template=template)
    preview.choose(submitted)
    if template is not None:
        try:
            preview.prompt = template.render(preview.chosen)
        except ValidationError as exc:
            preview.errors.append(f"Prompt template “{template.name}”: {messages_of(exc)}")
    try:
        caption = CaptionTemplate(body=body, hashtags=hashtags)
        preview.caption = caption.render({**preview.chosen, "prompt": preview.prompt or ""})
    except ValidationError as exc:
        preview.errors.append(messages_of(exc))
    preview.measure_caption()
    return preview
