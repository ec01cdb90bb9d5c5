"""Brand LoRAs: accept an upload only after checking it against its model, attach LoRAs to campaigns, and take
the snapshot a clip is made with. Every problem is a ValidationError whose message says what to do."""

from __future__ import annotations

import hashlib
import logging
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from accounts import audit
from campaigns.models import Campaign
from generation import engine
from generation.engine.lora import MAX_LORAS_PER_RENDER, MAX_WEIGHT, MIN_WEIGHT
from generation.models import BrandLora, CampaignLora
from generation.rendering import registry

log = logging.getLogger(__name__)

LORA_SUFFIX = ".safetensors"


def max_bytes() -> int:
    return settings.CLIPCAST_LORA_MAX_MB * 1024 * 1024


def model_folder(model_key: str):
    """The folder a web-facing model key means, or None for an unknown key."""
    try:
        return registry().path_for(model_key)[1].resolve()
    except engine.EngineError:
        return None


def same_model(key_a: str, key_b: str) -> bool:
    """Two keys name the same model when they resolve to one folder (e.g. `default` and `bundled` on a laptop)."""
    folder = model_folder(key_a)
    return folder is not None and folder == model_folder(key_b)


def _sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def check_upload(upload: UploadedFile, model_key: str) -> engine.LoraCheck:
    """File type, size and keys, in that order (the cheap checks first). Raises ValidationError."""
    name = upload.name or ""
    if not name.lower().endswith(LORA_SUFFIX):
        raise ValidationError(f"“{name}” is not a .safetensors file: upload the LoRA's .safetensors file.")
    if upload.size is not None and upload.size > max_bytes():
        raise ValidationError(
            f"This file is {upload.size / 1024 / 1024:,.1f} MB; the limit is {settings.CLIPCAST_LORA_MAX_MB:,} MB "
            "(CLIPCAST_LORA_MAX_MB): upload a smaller LoRA (a lower rank)."
        )
    try:
        info = registry().resolve(model_key)
    except engine.EngineError as exc:
        raise ValidationError(str(exc)) from exc
    try:
        upload.seek(0)
        return engine.check_lora(upload, info)
    except engine.InvalidLora as exc:
        raise ValidationError(str(exc)) from exc


def check_not_uploaded(workspace, upload: UploadedFile) -> str:
    """The file's sha256, unless this workspace has the same file already (it would render the same)."""
    sha = _sha256(upload)
    existing = BrandLora.objects.filter(workspace=workspace, sha256=sha).first()
    if existing is not None:
        raise ValidationError(f"This file is already uploaded in this workspace as “{existing.name}”: use that one.")
    return sha


def upload_lora(*, workspace, name: str, model_key: str, upload: UploadedFile, user=None) -> BrandLora:
    """Check the file against the model and store it in media storage."""
    checked = check_upload(upload, model_key)
    sha = check_not_uploaded(workspace, upload)
    lora = BrandLora(workspace=workspace, name=name.strip(), model_key=model_key, sha256=sha, size=upload.size or 0,
                     uploaded_by=user if getattr(user, "is_authenticated", False) else None)
    try:
        with transaction.atomic():
            lora.file.save("lora.safetensors", upload, save=False)
            lora.save()
            audit.record("uploaded", lora, audit.created(lora))
    except IntegrityError as exc:  # the same file uploaded twice at once
        lora.delete_file()
        raise ValidationError("This file was just uploaded in this workspace: use that one.") from exc
    log.info("lora.uploaded workspace=%s lora=%s sha=%s modules=%s", workspace.pk, lora.pk, sha[:12],
             checked.modules)
    return lora


def delete_lora(lora: BrandLora) -> None:
    """Remove the LoRA and its file; campaigns that used it render without it from now on (clips already made
    keep their record, and fail with a clear message if they render again)."""
    name = lora.file.name
    audit.audited_delete(lora)
    if name:
        lora.file.storage.delete(name)


def check_link(campaign: Campaign, lora: BrandLora, weight: float, *, link: CampaignLora | None = None) -> None:
    """A campaign may use a LoRA of its own workspace, for its own model, at a sane weight, up to the limit."""
    problems = []
    if lora.workspace_id != campaign.workspace_id:
        problems.append(f"LoRA “{lora.name}” belongs to another workspace: upload it to this campaign's workspace.")
    elif not same_model(lora.model_key, campaign.model_key):
        problems.append(
            f"LoRA “{lora.name}” was made for model “{lora.model_key}”, but campaign “{campaign.name}” renders with "
            f"“{campaign.model_key}”: pick a LoRA for that model, or change the campaign's model."
        )
    if weight is None or not MIN_WEIGHT <= weight <= MAX_WEIGHT:
        problems.append(f"Weight must be a number from {MIN_WEIGHT:g} to {MAX_WEIGHT:g}; got {weight!r}.")
    others = CampaignLora.objects.filter(campaign=campaign).exclude(pk=getattr(link, "pk", None))
    if others.filter(lora=lora).exists():
        problems.append(f"Campaign “{campaign.name}” already uses LoRA “{lora.name}”: change its weight instead.")
    elif others.count() >= MAX_LORAS_PER_RENDER:
        problems.append(f"A campaign can use at most {MAX_LORAS_PER_RENDER} LoRAs: remove one first.")
    if problems:
        raise ValidationError(problems)


def set_campaign_loras(campaign: Campaign, chosen: dict[BrandLora, float]) -> None:
    """Replace a campaign's LoRAs with `chosen` (LoRA -> weight): the dashboard's campaign form."""
    if len(chosen) > MAX_LORAS_PER_RENDER:
        raise ValidationError(f"A campaign can use at most {MAX_LORAS_PER_RENDER} LoRAs; {len(chosen)} are chosen.")
    with transaction.atomic():
        for dropped in CampaignLora.objects.filter(campaign=campaign).exclude(lora__in=list(chosen)):
            audit.audited_delete(dropped)
        for lora, weight in chosen.items():
            link = CampaignLora.objects.filter(campaign=campaign, lora=lora).first()
            check_link(campaign, lora, weight, link=link)
            if link is None:
                audit.audited_save(None, lambda lora=lora, weight=weight: CampaignLora.objects.create(
                    campaign=campaign, lora=lora, weight=weight))
            elif link.weight != weight:
                link.weight = weight
                audit.audited_save(link, lambda link=link: _saved(link))


def _saved(link: CampaignLora) -> CampaignLora:
    link.save(update_fields=["weight"])
    return link


def campaign_loras(campaign: Campaign, model_key: str | None = None) -> list[dict]:
    """The snapshot a new clip records and renders with: [{name, sha256, weight}] in the order they were added.
    Refused when the batch renders with another model than the LoRAs were made for."""
    links = list(CampaignLora.objects.filter(campaign=campaign).select_related("lora").order_by("pk"))
    key = model_key or campaign.model_key
    wrong = [link.lora.name for link in links if not same_model(link.lora.model_key, key)]
    if wrong:
        raise ValidationError(
            f"This batch renders with model “{key}”, but the campaign's LoRA(s) {', '.join(wrong)} were made for "
            "another model: render with their model, or remove them from the campaign."
        )
    return [link.record() for link in links]
