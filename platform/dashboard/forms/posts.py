"""Scheduling a clip on an X account, and moving a scheduled post."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy

from campaigns.models import Campaign, CaptionTemplate
from publishing.captions import X_TEXT_LIMIT
from publishing.models import AccountStatus, XAccount
from publishing.scheduling import skipped_by_dst

LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
# Far enough for any real schedule; the ends of datetime's range would overflow when converted to UTC.
YEARS = range(1970, 2200)


class LocalDateTimeField(forms.Field):
    """A wall-clock date-time kept naive: the campaign's time zone, not the server's, gives it meaning."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    default_error_messages = {"invalid": "Enter a date and time like 2026-03-01 14:30."}
    #: The campaign's time zone, set by the form: a time its clocks skip is refused with the time it would become.
    tz_name: str | None = None

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            parsed = value.replace(tzinfo=None)
        else:
            for fmt in LOCAL_FORMATS:
                try:
                    parsed = datetime.strptime(str(value).strip(), fmt)
                    break
                except ValueError:
                    continue
            else:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        if parsed.year not in YEARS:
            raise ValidationError("That date is out of range: pick a date within the next year.", code="range")
        moved = skipped_by_dst(parsed, self.tz_name) if self.tz_name else None
        if moved is not None:
            # Refused rather than moved: the marketer picked 02:30 and should choose what happens, not find 03:30.
            raise ValidationError(
                f"{parsed:%H:%M} does not exist on {parsed:%-d %b %Y} in {self.tz_name}: the clocks jump forward "
                f"that night. Pick {moved:%H:%M} (the same moment on the new clock) or another time.",
                code="dst_gap",
            )
        return parsed


class CaptionField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        # The live weighted-length counter next to the caption (templates/dashboard/_counter.html).
        attrs = {
            "rows": 4, "hx-post": reverse_lazy("dashboard:caption_counter"), "hx-trigger": "input delay:300ms",
            "hx-target": "#caption-counter", "hx-swap": "outerHTML", "hx-sync": "this:replace",
        }
        kwargs.setdefault("widget", forms.Textarea(attrs=attrs))
        kwargs.setdefault("max_length", 4000)
        kwargs.setdefault("help_text", f"X counts emoji and CJK as 2 and every URL as 23; the limit is {X_TEXT_LIMIT}.")
        super().__init__(strip=False, **kwargs)


class ScheduleForm(forms.Form):
    account = forms.ModelChoiceField(
        label="X account", queryset=XAccount.objects.none(), empty_label=None,
    )
    caption_template = forms.ModelChoiceField(
        label="Caption template", queryset=CaptionTemplate.objects.none(), required=False,
        empty_label="None: the clip's prompt",
        help_text="Fills the caption below with this clip's own values and prompt; edit it freely afterwards.",
    )
    # Which template the caption text was filled from: when the picked one differs (the page was not refreshed,
    # e.g. without JavaScript), the picked template's text is used.
    caption_from = forms.CharField(widget=forms.HiddenInput, required=False)
    caption = CaptionField(label="Caption")
    when = LocalDateTimeField(label="Date and time", required=False)

    def __init__(self, *args, workspace, tz_name: str, campaign: Campaign, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = XAccount.objects.for_workspace(workspace).filter(
            status=AccountStatus.ACTIVE
        )
        self.fields["caption_template"].queryset = campaign.caption_templates.order_by("pk")
        self.fields["caption_template"].widget.attrs.update({
            "hx-include": "closest form", "hx-vals": '{"action": "use_template"}',
            "hx-target": "#schedule-form", "hx-select": "#schedule-form", "hx-swap": "outerHTML",
        })
        self.fields["when"].label = f"Date and time ({tz_name})"
        self.fields["when"].tz_name = tz_name
        self.fields["when"].help_text = f"In the campaign's time zone, {tz_name}. Leave empty to add to the queue."

    def template_changed(self) -> bool:
        """The picked caption template is not the one the caption text came from."""
        template = self.cleaned_data.get("caption_template")
        return str(template.pk if template else "") != (self.cleaned_data.get("caption_from") or "")

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.data.get("action") not in ("queue", "now") and not cleaned.get("when") and "when" not in self.errors:
            self.add_error("when", "Pick a date and time, or use “Add to queue” for the next free slot.")
        return cleaned


class RescheduleForm(forms.Form):
    when = LocalDateTimeField(label="Date and time")
    caption = CaptionField(label="Caption")

    def __init__(self, *args, tz_name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["when"].label = f"Date and time ({tz_name})"
        self.fields["when"].tz_name = tz_name
