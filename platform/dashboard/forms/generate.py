"""The generate form: a prompt template's variable grid or a CSV, clip length and seed policy."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from campaigns.models import PromptTemplate, validate_variables
from generation.batches import MAX_CSV_BYTES, expand_grid, rows_from_csv
from generation.services import SeedPolicy

# Clip lengths offered to marketers; the bundled model renders at 8 frames per second. Clips longer than a model's
# native window (the bundled model's is 3 s) are rendered through overlapping windows by the engine.
FPS = 8
LENGTHS = {"1": 1, "3": 3, "10": 10}


class GenerateForm(forms.Form):
    source = forms.ChoiceField(
        label="Variable values from",
        choices=[("grid", "The grid below (every combination)"), ("csv", "A CSV file (one clip per row)")],
        initial="grid",
        widget=forms.RadioSelect,
    )
    csv_file = forms.FileField(
        label="CSV file", required=False,
        help_text="A header row naming the template's variables, then one clip per row.",
    )
    length = forms.ChoiceField(
        label="Clip length",
        choices=[(key, f"{s} second{'s' if s > 1 else ''} ({s * FPS} frames)") for key, s in LENGTHS.items()],
        initial="1",
        widget=forms.RadioSelect,
    )
    seed_policy = forms.ChoiceField(
        label="Seed policy",
        choices=[
            (SeedPolicy.INCREMENT.value, "Incrementing: seed, seed + 1, …"),
            (SeedPolicy.FIXED.value, "Fixed: every clip uses the same seed"),
            (SeedPolicy.RANDOM.value, "Random: a fresh seed per clip (recorded)"),
        ],
        initial=SeedPolicy.INCREMENT.value,
    )
    seed = forms.IntegerField(
        label="Seed", required=False, min_value=0, max_value=2**63 - 1, initial=0,
        help_text="The same seed, prompt and settings render the same clip. Ignored for random seeds.",
    )

    def __init__(self, *args, template: PromptTemplate, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.template = template
        self.rows: list[dict[str, str]] = []
        self.grid_field_names: list[str] = []
        #: Why this template cannot be generated from, for one saved before the caps on variables existed.
        self.oversized: str | None = None
        try:
            validate_variables(template.variables or {})
        except ValidationError as exc:
            self.oversized = f"{' '.join(exc.messages)} Edit the template before generating from it."
            return
        for name, values in (template.variables or {}).items():
            field_name = f"grid_{name}"
            self.fields[field_name] = forms.MultipleChoiceField(
                label=name, required=False, choices=[(v, v) for v in values], widget=forms.CheckboxSelectMultiple,
            )
            self.grid_field_names.append(field_name)

    @property
    def grid_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.grid_field_names]

    def clean_csv_file(self):
        upload = self.cleaned_data.get("csv_file")
        if upload is None:
            return None
        if upload.size > MAX_CSV_BYTES:
            raise ValidationError(f"The CSV is larger than {MAX_CSV_BYTES // 1024} KB: split it into smaller files.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError("The CSV is not UTF-8 text: export it as “CSV UTF-8” and upload it again.") from exc

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.oversized:
            raise ValidationError(self.oversized)
        policy = cleaned.get("seed_policy")
        if policy and policy != SeedPolicy.RANDOM and cleaned.get("seed") is None and "seed" not in self.errors:
            self.add_error("seed", "Give a seed (0 or more) for a fixed or incrementing seed policy.")
        cap = settings.CLIPCAST_MAX_CLIPS_PER_BATCH
        try:
            if cleaned.get("source") == "csv":
                if not cleaned.get("csv_file"):
                    if "csv_file" not in self.errors:
                        self.add_error("csv_file", "Choose a CSV file to upload, or use the grid.")
                    return cleaned
                self.rows = rows_from_csv(self.template, cleaned["csv_file"], cap)
            elif cleaned.get("source") == "grid":
                grid = {name: cleaned.get(f"grid_{name}") or [] for name in (self.template.variables or {})}
                missing = [name for name, values in grid.items() if not values]
                if missing:
                    raise ValidationError(
                        f"Tick at least one value for {', '.join('{' + m + '}' for m in missing)}."
                    )
                self.rows = expand_grid(self.template, grid, cap) if grid else [{}]
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned

    @property
    def frames(self) -> int:
        return LENGTHS[self.cleaned_data["length"]] * FPS

