"""Starting an A/B experiment on a prompt template's grid, and filling slots with its variants."""

from __future__ import annotations

from django import forms

from campaigns.models import Campaign, PromptTemplate
from dashboard.forms.posts import LocalDateTimeField
from publishing.experiments import MAX_FILL
from publishing.models import AccountStatus, XAccount


class ExperimentForm(forms.Form):
    prompt_template = forms.ModelChoiceField(
        queryset=PromptTemplate.objects.none(), label="Prompt template",
        help_text="Its approved clips are the variants: one per set of variable values.")
    x_account = forms.ModelChoiceField(queryset=XAccount.objects.none(), label="Post on")
    name = forms.CharField(max_length=120, required=False, help_text="Optional; the template's name by default.")
    min_impressions = forms.IntegerField(
        min_value=1, max_value=10**9, initial=1000, label="Impressions per variant",
        help_text="Declare the winner once every variant's posts have this many impressions…")
    decide_at = LocalDateTimeField(
        required=False, label="…or decide at", help_text="Optional, in the campaign's time zone.")

    def __init__(self, *args, campaign: Campaign, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["prompt_template"].queryset = campaign.prompt_templates.all()
        self.fields["x_account"].queryset = XAccount.objects.filter(
            workspace_id=campaign.workspace_id, status=AccountStatus.ACTIVE)
        self.fields["decide_at"].tz_name = campaign.timezone


class FillForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=MAX_FILL, initial=4, label="Slots to fill")
