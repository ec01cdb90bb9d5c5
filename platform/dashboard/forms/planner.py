"""Forms of the planner: a post from an empty slot, and bulk actions on gallery clips."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from campaigns.models import Campaign, CaptionTemplate
from dashboard.forms.posts import LocalDateTimeField
from generation.models import Clip, ClipStatus, ReviewStatus
from publishing.bulk import MAX_BULK, BulkAction
from publishing.models import AccountStatus, PostStatus, XAccount
from publishing.scheduling import local_to_utc, utc_to_local

TAKEN = [s for s in PostStatus.values if s not in (PostStatus.FAILED, PostStatus.CANCELLED)]


class ClipChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, clip: Clip) -> str:
        return f"Clip {clip.pk}: {clip.prompt[:90]}"


class SlotPostForm(forms.Form):
    clip = ClipChoiceField(label="Approved clip", queryset=Clip.objects.none(), widget=forms.RadioSelect,
                           empty_label=None, help_text="Clips ready to post and not scheduled yet.")
    caption_template = forms.ModelChoiceField(label="Caption template", queryset=CaptionTemplate.objects.none(),
                                              required=False, empty_label="None: the clip's prompt")
    account = forms.ModelChoiceField(label="X account", queryset=XAccount.objects.none(), empty_label=None)
    when = LocalDateTimeField(label="Date and time")

    def __init__(self, *args, workspace, campaign: Campaign, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clip"].queryset = (
            Clip.objects.filter(campaign=campaign, status=ClipStatus.SUCCEEDED)
            .filter(Q(review_status=ReviewStatus.APPROVED) | Q(campaign__approval_required=False))
            .exclude(posts__status__in=TAKEN)
        )
        self.fields["caption_template"].queryset = campaign.caption_templates.order_by("pk")
        self.fields["account"].queryset = XAccount.objects.for_workspace(workspace).filter(
            status=AccountStatus.ACTIVE)
        self.fields["when"].label = f"Date and time ({campaign.timezone})"
        self.fields["when"].tz_name = campaign.timezone

    @staticmethod
    def initial_for(campaign: Campaign, query: Mapping[str, str]) -> dict:
        """The slot's local time (from `at`, a UTC instant, or `date` and `time`) and the default caption template."""
        initial: dict = {"caption_template": campaign.default_caption_template()}
        try:
            if query.get("at"):
                at = datetime.fromisoformat(query["at"])
                if at.tzinfo is not None:
                    initial["when"] = utc_to_local(at, campaign.timezone).replace(tzinfo=None)
            elif query.get("date"):
                initial["when"] = datetime.combine(date.fromisoformat(query["date"]),
                                                   time.fromisoformat(query.get("time") or "09:00"))
        except ValueError:
            pass  # a hand-edited address: the marketer picks the time in the form
        return initial


class IdsField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        ids = []
        for raw in value or []:
            if not str(raw).isdigit() or not 0 < int(raw) < 2**31:
                raise ValidationError("That selection is not valid: reload the page and select the clips again.")
            ids.append(int(raw))
        if not ids and self.required:
            raise ValidationError("Select at least one clip (tick the boxes on the cards).")
        if len(ids) > MAX_BULK:
            raise ValidationError(f"Select at most {MAX_BULK} clips at once.")
        return list(dict.fromkeys(ids))


class BulkForm(forms.Form):
    clips = IdsField()
    action = forms.ChoiceField(choices=[
        (BulkAction.APPROVE.value, "Approve"), (BulkAction.REJECT.value, "Reject"),
        (BulkAction.QUEUE.value, "Add to queue (next free slots)"),
        (BulkAction.SLOTS.value, "Schedule one per slot from a day on"),
    ])
    account = forms.ModelChoiceField(label="X account", queryset=XAccount.objects.none(), required=False,
                                     empty_label=None)
    starting = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               help_text="Schedule one per slot: the first day to fill.")

    def __init__(self, *args, workspace, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.fields["account"].queryset = XAccount.objects.for_workspace(workspace).filter(
            status=AccountStatus.ACTIVE)

    def clean(self) -> dict:
        cleaned = super().clean()
        action = cleaned.get("action")
        if action in (BulkAction.QUEUE, BulkAction.SLOTS) and not cleaned.get("account"):
            self.add_error("account", "Pick the X account to post on (an owner can connect one under Accounts).")
        starting = cleaned.get("starting")
        if action == BulkAction.SLOTS and starting:
            if starting.year > 2199:
                self.add_error("starting", "Pick a day within the next year.")
            else:
                cleaned["starting_at"] = local_to_utc(datetime.combine(starting, time()), self.workspace.timezone)
        return cleaned
