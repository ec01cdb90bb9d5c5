"""Small LoRA files for the bundled model, built the way a trainer would: PEFT adapters on the UNet's attention
projections, saved with diffusers' `save_lora_weights` (non-zero weights, so the frames really change)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

ATTENTION_PROJECTIONS = ["to_q", "to_k", "to_v", "to_out.0"]


def build_lora(model_dir: Path, folder: Path, *, seed: int = 0, scale: float = 0.5, rank: int = 4) -> Path:
    """A rank-`rank` LoRA for `model_dir`'s UNet, as `<folder>/brand.safetensors`."""
    import diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    config = json.loads((Path(model_dir) / "unet" / "config.json").read_text())
    unet = getattr(diffusers, config["_class_name"]).from_pretrained(Path(model_dir) / "unet")
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=ATTENTION_PROJECTIONS))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in unet.named_parameters():
            if "lora_" in name:  # PEFT starts lora_B at zero, which would change nothing
                param.copy_(torch.randn(param.shape, generator=generator) * scale)
    diffusers.AnimateDiffSDXLPipeline.save_lora_weights(
        folder, unet_lora_layers=get_peft_model_state_dict(unet), weight_name="brand.safetensors"
    )
    return Path(folder) / "brand.safetensors"


def safetensors_bytes(tensors: dict[str, list[int]]) -> bytes:
    """A valid safetensors file of zero-filled float32 tensors with these names and shapes."""
    from safetensors.torch import save

    return save({name: torch.zeros(shape) for name, shape in tensors.items()})


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def make_lora(workspace, content: bytes, name: str = "Acme look"):
    """A BrandLora uploaded through the real service (checked, stored in media storage)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from generation import loras

    return loras.upload_lora(workspace=workspace, name=name, model_key="bundled",
                             upload=SimpleUploadedFile("acme.safetensors", content))
