"""Campaigns and what they are made of: prompt templates, caption templates and weekly posting slots."""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models.functions import Lower

from accounts import audit
from accounts.models import Workspace, validate_timezone
from accounts.scoping import WorkspaceScopedQuerySet
from campaigns import templating
from campaigns.caption_bounds import check_caption
from core.xtext import X_TEXT_LIMIT

# Caps on what a prompt template declares: past these the generate page (a checkbox per value) and any grid
# built from the template stop being usable, and a hostile client could make every later read slow.
MAX_VARIABLES_PER_TEMPLATE = 20
MAX_VALUES_PER_VARIABLE = 100
MAX_TEMPLATE_COMBINATIONS = 100_000
MAX_OUTPUT_SHORT_SIDE = 1024  # X's limit on a video's shorter side (its longer one: 1280)
# The output sizes a campaign offers by name: X's square, landscape and portrait 720p.
OUTPUT_SHAPES = {"square": (720, 720), "landscape": (1280, 720), "portrait": (720, 1280)}


def not_a_value(value: str, name: str, allowed: list[str]) -> str:
    """Says which values `{name}` takes, as a marketer would write them (not as a Python list)."""
    return f"“{value}” is not a value of {{{name}}}: use one of {', '.join(allowed)}."


def output_size_problem(width: int | None, height: int | None) -> str | None:
    """Why X would refuse a video of this size (each side is already within 32-1280 px), or None."""
    if width and height and min(width, height) > MAX_OUTPUT_SHORT_SIDE:
        return (
            f"Output video {width}x{height} is larger than X takes: the short side may be at most "
            f"{MAX_OUTPUT_SHORT_SIDE} px. Use 720x720, 1280x720 (landscape) or 720x1280 (portrait)."
        )
    return None


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class CampaignQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "workspace"

    def visible(self) -> CampaignQuerySet:
        return self.exclude(status=CampaignStatus.ARCHIVED)


def configured_model_keys() -> list[str]:
    """The keys a campaign may pick: `default`, `bundled`, then those of CLIPCAST_MODELS."""
    return ["default", "bundled", *sorted(k for k in settings.CLIPCAST_MODELS if k not in {"default", "bundled"})]


class Campaign(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    approval_required = models.BooleanField(default=True)

    # Render defaults for clips of this campaign; each clip records the values it was rendered with.
    model_key = models.CharField(
        max_length=64, default="default", help_text="default (CLIPCAST_MODEL_PATH or the bundled model), bundled, "
        "or a key of CLIPCAST_MODELS."
    )
    frames = models.PositiveSmallIntegerField(default=8, validators=[MinValueValidator(1), MaxValueValidator(1024)])
    fps = models.PositiveSmallIntegerField(default=8, validators=[MinValueValidator(1), MaxValueValidator(60)])
    width = models.PositiveSmallIntegerField(default=64, validators=[MinValueValidator(8), MaxValueValidator(4096)])
    height = models.PositiveSmallIntegerField(default=64, validators=[MinValueValidator(8), MaxValueValidator(4096)])
    output_width = models.PositiveSmallIntegerField(
        default=720, validators=[MinValueValidator(32), MaxValueValidator(1280)]
    )
    # X takes 32 to 1280 px on the long side and up to 1024 on the short one, in either orientation (1280x720
    # landscape, 720x1280 portrait): each side up to 1280 here, the short side checked in clean().
    output_height = models.PositiveSmallIntegerField(
        default=720, validators=[MinValueValidator(32), MaxValueValidator(1280)]
    )
    steps = models.PositiveSmallIntegerField(default=20, validators=[MinValueValidator(1), MaxValueValidator(150)])
    guidance = models.FloatField(default=7.5, validators=[MinValueValidator(0.0), MaxValueValidator(50.0)])
    negative_prompt = models.TextField(blank=True, max_length=2000)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "status"], name="campaign_ws_status_idx")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problem = output_size_problem(self.output_width, self.output_height)
        if problem:
            raise ValidationError({"output_height": problem})

    def render_defaults(self) -> dict:
        return {
            "model_key": self.model_key,
            "frames": self.frames,
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "output_width": self.output_width,
            "output_height": self.output_height,
            "steps": self.steps,
            "guidance": self.guidance,
        }

    def default_caption_template(self) -> CaptionTemplate | None:
        """The caption template posts start from unless another is picked: the campaign's first one."""
        return self.caption_templates.order_by("pk").first()

    def archive(self) -> None:
        with transaction.atomic():
            before, self.status = self.status, CampaignStatus.ARCHIVED
            self.save(update_fields=["status", "updated_at"])
            audit.record("archived", self, {"status": [before, self.status]})


def validate_variables(value: object) -> None:
    """Variables are a JSON object: name -> non-empty list of distinct string values."""
    if not isinstance(value, dict):
        raise ValidationError("Variables must be an object mapping each name to a list of values.")
    if len(value) > MAX_VARIABLES_PER_TEMPLATE:
        raise ValidationError(
            f"The template declares {len(value):,} variables; the limit is {MAX_VARIABLES_PER_TEMPLATE}: "
            "remove the ones the prompt does not use, or split it into several templates."
        )
    for name, values in value.items():
        if not isinstance(name, str) or not templating.NAME_RE.match(name):
            raise ValidationError(f"Variable name {name!r} is invalid: use letters, digits and underscores.")
        if not isinstance(values, list) or not values:
            raise ValidationError(f"Variable {{{name}}} needs a non-empty list of values.")
        if len(values) > MAX_VALUES_PER_VARIABLE:
            raise ValidationError(
                f"Variable {{{name}}} has {len(values):,} values; the limit is {MAX_VALUES_PER_VARIABLE}: "
                "keep the values you will generate, or split it into several templates."
            )
        for item in values:
            if not isinstance(item, str) or not item.strip():
                raise ValidationError(f"Every value of {{{name}}} must be non-empty text.")
            if "\x00" in item or len(item) > 200:
                raise ValidationError(f"A value of {{{name}}} is longer than 200 characters or holds a NUL.")
        if len(set(values)) != len(values):
            raise ValidationError(f"Variable {{{name}}} lists a value twice.")
    combinations = math.prod(len(values) for values in value.values())
    if combinations > MAX_TEMPLATE_COMBINATIONS:
        sizes = " x ".join(str(len(values)) for values in value.values())
        raise ValidationError(
            f"These variables make {combinations:,} combinations ({sizes}); the limit is "
            f"{MAX_TEMPLATE_COMBINATIONS:,}: declare fewer values, or split it into several templates."
        )


class CampaignPartQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "campaign__workspace"


def check_unique_name(template: models.Model, kind: str) -> None:
    """Two templates of one campaign cannot share a name (case-insensitive): lists and pickers could not tell them
    apart. Checked here because forms leave `campaign` out and so skip the database constraint's own check."""
    if template.campaign_id is None or not template.name:
        return
    others = type(template).objects.filter(campaign_id=template.campaign_id, name__iexact=template.name.strip())
    if others.exclude(pk=template.pk).exists():
        raise ValidationError(
            {"name": f"This campaign already has a {kind} template called “{template.name}”: choose another name."}
        )


class CampaignTemplate(models.Model):
    """What prompt and caption templates share: a named body with {variables}, unique by name in its campaign."""

    #: How the template is named in messages ("prompt", "caption").
    kind = ""
    name = models.CharField(max_length=120)
    body = models.TextField(max_length=templating.MAX_TEMPLATE_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignPartQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["campaign", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check_unique_name(self, self.kind)


class PromptTemplate(CampaignTemplate):
    kind = "prompt"
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="prompt_templates")
    variables = models.JSONField(default=dict, blank=True, validators=[validate_variables])

    class Meta(CampaignTemplate.Meta):
        constraints = [
            models.UniqueConstraint(
                "campaign", Lower("name"), name="unique_prompt_template_name",
                violation_error_message="This campaign already has a prompt template of that name.",
            )
        ]

    def clean(self) -> None:
        super().clean()
        templating.check_declared(self.body, self.variables or {})

    def render(self, values: dict[str, str]) -> str:
        """The prompt for these values; each value must be one declared for its variable."""
        declared = self.variables or {}
        unknown = sorted(set(values) - set(declared))
        if unknown:
            raise ValidationError(f"Unknown variable(s) {templating.quote_names(unknown)} for template {self.name!r}.")
        for name, value in values.items():
            if value not in declared[name]:
                raise ValidationError(not_a_value(value, name, declared[name]))
        return templating.render(self.body, values)


class CaptionTemplate(CampaignTemplate):
    kind = "caption"
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="caption_templates")
    name = models.CharField(max_length=120, default="Default")
    hashtags = models.CharField(max_length=500, blank=True, help_text="Space-separated, with or without #.")

    class Meta(CampaignTemplate.Meta):
        constraints = [
            models.UniqueConstraint(
                "campaign", Lower("name"), name="unique_caption_template_name",
                violation_error_message="This campaign already has a caption template of that name.",
            )
        ]

    def clean(self) -> None:
        super().clean()
        try:
            templating.parse(self.body)
            if self.campaign_id is not None:
                check_caption(self, list(self.campaign.prompt_templates.all()), X_TEXT_LIMIT)
        except ValidationError as exc:
            raise ValidationError({"body": exc.messages}) from exc

    def hashtag_list(self) -> list[str]:
        return [tag if tag.startswith("#") else f"#{tag}" for tag in self.hashtags.split() if tag.strip("#")]

    def render(self, values: dict[str, object]) -> str:
        text = templating.render(self.body, values)
        tags = " ".join(self.hashtag_list())
        return f"{text} {tags}".strip() if tags else text


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class PostingSlot(models.Model):
    """A weekly local time at which the campaign's queue posts, in the campaign's time zone."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="posting_slots")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    local_time = models.TimeField()

    objects = CampaignPartQuerySet.as_manager()

    class Meta:
        ordering = ["campaign", "weekday", "local_time"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "weekday", "local_time"], name="unique_slot_per_campaign")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.local_time:%H:%M}"
