"""Campaign settings, prompt and caption templates, posting slots."""

from __future__ import annotations

import json
from functools import cache

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from campaigns import templating
from campaigns.models import (
    OUTPUT_SHAPES,
    Campaign,
    CaptionTemplate,
    PostingSlot,
    PromptTemplate,
    Weekday,
    configured_model_keys,
    validate_variables,
)
from core.timezones import canonical_timezones


@cache
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(canonical_timezones())]


class CampaignForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        label="Time zone", choices=timezone_choices, help_text="Posting times are entered and shown in this time zone."
    )
    # Optional in a post: a form (or client) that leaves it out keeps the campaign's model.
    model_key = forms.ChoiceField(
        label="Model", required=False, help_text="Which configured text-to-video model renders this campaign's clips."
    )
    output_shape = forms.ChoiceField(
        label="Output video", required=False, initial="square",
        choices=[
            ("square", "Square 720x720"), ("landscape", "Landscape 1280x720"), ("portrait", "Portrait 720x1280"),
            ("custom", "Custom: the width and height below"),
        ],
        help_text="Clips are upscaled to this size for X.",
    )

    class Meta:
        model = Campaign
        fields = [
            "name", "status", "timezone", "approval_required", "model_key",
            "frames", "fps", "width", "height", "output_width", "output_height", "steps", "guidance", "negative_prompt",
        ]
        labels = {
            "approval_required": "Clips need approval before they can be scheduled",
            "frames": "Frames per clip",
            "fps": "Frames per second",
            "width": "Render width (px)",
            "height": "Render height (px)",
            "output_width": "Output video width (px)",
            "output_height": "Output video height (px)",
            "steps": "Denoising steps",
            "guidance": "Guidance scale",
            "negative_prompt": "Negative prompt",
        }
        widgets = {"negative_prompt": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.timezone if self.instance.pk else None
        if current and current not in canonical_timezones():
            # Show the stored value as it is (a select would silently show, then save, its first option instead);
            # saving it unchanged is refused by the model with the zone to choose instead.
            self.fields["timezone"].choices = [(current, f"{current} (not a canonical zone)"), *timezone_choices()]
        for name in RANGED_FIELDS:
            one_range_message(self.fields[name], Campaign._meta.get_field(name))
        keys = configured_model_keys()
        stored = self.instance.model_key
        self.fields["model_key"].choices = [(key, key) for key in keys] + (
            [(stored, f"{stored} (no longer configured)")] if stored and stored not in keys else []
        )

        size = (self.instance.output_width, self.instance.output_height)
        self.fields["output_shape"].initial = next((k for k, v in OUTPUT_SHAPES.items() if v == size), "custom")
        for name in ("output_width", "output_height"):
            self.fields[name].required = False  # a named shape sets them

    def clean_model_key(self) -> str:
        return self.cleaned_data.get("model_key") or self.instance.model_key or "default"

    def clean(self) -> dict:
        cleaned = super().clean()
        shape = cleaned.get("output_shape") or "custom"
        if shape in OUTPUT_SHAPES:
            cleaned["output_width"], cleaned["output_height"] = OUTPUT_SHAPES[shape]
            for name in ("output_width", "output_height"):
                self.errors.pop(name, None)
        else:
            for name in ("output_width", "output_height"):
                if cleaned.get(name) is None and name not in self.errors:
                    self.add_error(name, "Give the output video's width and height, or pick a named shape.")
        return cleaned



# Render settings bounded by the model's validators: one message names the whole range, whichever end is crossed.
RANGED_FIELDS = ["frames", "fps", "width", "height", "output_width", "output_height", "steps", "guidance"]


def one_range_message(field: forms.Field, model_field) -> None:
    """Replace the form's own ≥ 0 (positive field) and the model's ≥ 1 checks with one “from 1 to 60” check."""
    low = max(v.limit_value for v in model_field.validators if isinstance(v, MinValueValidator))
    high = min(v.limit_value for v in model_field.validators if isinstance(v, MaxValueValidator))
    kind = "a whole number" if isinstance(field, forms.IntegerField) and not isinstance(field, forms.FloatField) \
        else "a number"
    message = f"Enter {kind} from {low:g} to {high:g}."

    def in_range(value) -> None:
        if value is not None and not low <= value <= high:
            raise ValidationError(message, code="range")

    field.validators = [in_range]
    field.min_value, field.max_value = low, high
    field.widget.attrs.update(min=low, max=high)


def parse_variables(text: str) -> dict[str, list[str]]:
    """`name: value, value` per line (or a JSON object), the form marketers write variables in."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"The variables look like JSON but do not parse: {exc.msg} (line {exc.lineno})."
            ) from exc
        validate_variables(value)
        return value
    variables: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, values = line.partition(":")
        if not sep:
            raise ValidationError(f"Line {number} has no colon: write it as `name: first value, second value`.")
        name = name.strip()
        if name in variables:
            raise ValidationError(f"Variable {{{name}}} is declared twice (line {number}): merge the lines.")
        variables[name] = [v.strip() for v in values.split(",") if v.strip()]
    validate_variables(variables)
    return variables


def format_variables(variables: dict[str, list[str]]) -> str:
    if any("," in value for values in variables.values() for value in values):
        return json.dumps(variables, indent=2, ensure_ascii=False)
    return "\n".join(f"{name}: {', '.join(values)}" for name, values in variables.items())


class PromptTemplateForm(forms.ModelForm):
    variables_text = forms.CharField(
        label="Variables",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One variable per line: `colour: red, green, blue`. Use each as {colour} in the prompt.",
    )

    class Meta:
        model = PromptTemplate
        fields = ["name", "body"]
        labels = {"body": "Prompt"}
        help_texts = {"body": "Placeholders are {name}; write {{ or }} for a literal brace."}
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["variables_text"] = format_variables(self.instance.variables or {})

    def clean_variables_text(self) -> dict[str, list[str]]:
        return parse_variables(self.cleaned_data.get("variables_text") or "")

    def clean(self) -> dict:
        cleaned = super().clean()
        if "variables_text" in cleaned:
            # The model's clean() checks every placeholder against these declared variables.
            self.instance.variables = cleaned["variables_text"]
        return cleaned

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.has_error("variables_text"):
            # The model checked the body against variables the broken line never declared: only the line's own
            # error is true. Other model errors (name taken, bad placeholder syntax) stay.
            for field in list(self._errors):
                kept = [e for e in self._errors[field].as_data() if e.code != templating.UNKNOWN_VARIABLES]
                if kept:
                    self._errors[field] = self.error_class([m for e in kept for m in e.messages],
                                                           renderer=self.renderer)
                else:
                    del self._errors[field]


class CaptionTemplateForm(forms.ModelForm):
    class Meta:
        model = CaptionTemplate
        fields = ["name", "body", "hashtags"]
        labels = {"body": "Caption"}
        help_texts = {
            "body": "Use the prompt's variables, e.g. {colour}, and {prompt} for the whole prompt.",
            "hashtags": "Space-separated, with or without #; appended to the caption.",
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}


class PostingSlotForm(forms.ModelForm):
    class Meta:
        model = PostingSlot
        fields = ["weekday", "local_time"]
        labels = {"local_time": "Local time"}
        widgets = {"local_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args, campaign: Campaign, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.campaign = campaign
        self.fields["weekday"].choices = Weekday.choices

    def validate_unique(self) -> None:
        # The unique constraint involves campaign, which is not a form field; check it here for a clear message.
        super().validate_unique()
        data = self.cleaned_data
        if {"weekday", "local_time"} <= set(data) and PostingSlot.objects.filter(
            campaign=self.instance.campaign, weekday=data["weekday"], local_time=data["local_time"]
        ).exists():
            self.add_error(None, "This campaign already has that slot.")
