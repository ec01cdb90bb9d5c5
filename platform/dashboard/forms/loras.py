"""Brand LoRAs: the upload form, and the LoRA part of the campaign form (a weight per LoRA; blank: not used)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from campaigns.models import Campaign
from generation import loras
from generation.engine.lora import MAX_LORAS_PER_RENDER, MAX_WEIGHT, MIN_WEIGHT
from generation.models import BrandLora


def model_key_choices() -> list[tuple[str, str]]:
    keys = ["default", "bundled", *sorted(settings.CLIPCAST_MODELS)]
    return [(key, key) for key in dict.fromkeys(keys)]


class LoraUploadForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="How campaigns will list it, e.g. “Acme summer look”.")
    model_key = forms.ChoiceField(label="Model", choices=model_key_choices,
                                  help_text="The model it was trained for: its keys are checked against this model.")
    file = forms.FileField(label="LoRA file (.safetensors)",
                           widget=forms.ClearableFileInput(attrs={"accept": ".safetensors"}))

    def __init__(self, *args, workspace, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean(self) -> dict:
        data = super().clean()
        upload, model_key = data.get("file"), data.get("model_key")
        if upload and model_key:
            try:
                loras.check_upload(upload, model_key)
                loras.check_not_uploaded(self.workspace, upload)
            except ValidationError as exc:
                self.add_error("file", exc)
        return data

    def save(self, user) -> BrandLora:
        data = self.cleaned_data
        return loras.upload_lora(workspace=self.workspace, name=data["name"], model_key=data["model_key"],
                                 upload=data["file"], user=user)


class CampaignLorasForm(forms.Form):
    """One optional weight field per LoRA of the workspace, named lora_<id>."""

    prefix = "loras"

    def __init__(self, *args, workspace, campaign: Campaign | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.loras = list(BrandLora.objects.for_workspace(workspace).order_by("name", "pk"))
        current = dict(campaign.lora_links.values_list("lora_id", "weight")) if campaign and campaign.pk else {}
        for lora in self.loras:
            self.fields[f"lora_{lora.pk}"] = forms.FloatField(
                label=lora.name, required=False, min_value=MIN_WEIGHT, max_value=MAX_WEIGHT,
                initial=current.get(lora.pk),
                help_text=f"For model “{lora.model_key}”. Weight from {MIN_WEIGHT:g} to {MAX_WEIGHT:g} (1 = as "
                "trained); leave blank to render without it.",
                widget=forms.NumberInput(attrs={"step": "0.05", "min": MIN_WEIGHT, "max": MAX_WEIGHT}),
            )

    def chosen(self) -> dict[BrandLora, float]:
        return {lora: self.cleaned_data[f"lora_{lora.pk}"] for lora in self.loras
                if self.cleaned_data.get(f"lora_{lora.pk}") is not None}

    def clean(self) -> dict:
        data = super().clean()
        chosen = self.chosen()
        if len(chosen) > MAX_LORAS_PER_RENDER:
            raise ValidationError(f"A campaign can use at most {MAX_LORAS_PER_RENDER} LoRAs; {len(chosen)} have a "
                                  "weight: clear the others.")
        model_key = self.campaign.model_key if self.campaign else Campaign._meta.get_field("model_key").default
        for lora in chosen:
            if not loras.same_model(lora.model_key, model_key):
                self.add_error(f"lora_{lora.pk}", f"Made for model “{lora.model_key}”, but this campaign renders "
                               f"with “{model_key}”: leave it blank.")
        return data

    def save(self, campaign: Campaign) -> None:
        loras.set_campaign_loras(campaign, self.chosen())
