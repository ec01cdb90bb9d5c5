"""Small LoRA files for the bundled model, built the way a trainer would: PEFT adapters on the UNet's attention
projections, saved with diffusers' `save_lora_weights` (non-zero weights, so the frames really change)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

ATTENTION_PROJECTIONS = ["to_q", "to_k", "to_v", "to_out.0"]


def build_lora(model_dir: Path, folder: Path, *, seed: int = 0, scale: float = 0.5, rank: int = 4) -> Path:
    """A rank-`rank` LoRA for `model_dir`'s denoiser (UNet or transformer), as `<folder>/brand.safetensors`."""
    import diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    model_dir = Path(model_dir)
    component = "unet" if (model_dir / "unet").is_dir() else "transformer"
    config = json.loads((model_dir / component / "config.json").read_text())
    denoiser = getattr(diffusers, config["_class_name"]).from_pretrained(model_dir / component)
    denoiser.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=ATTENTION_PROJECTIONS))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in denoiser.named_parameters():
            if "lora_" in name:  # PEFT starts lora_B at zero, which would change nothing
                param.copy_(torch.randn(param.shape, generator=generator) * scale)
    pipeline = getattr(diffusers, json.loads((model_dir / "model_index.json").read_text())["_class_name"])
    pipeline.save_lora_weights(folder, weight_name="brand.safetensors",
                               **{f"{component}_lora_layers": get_peft_model_state_dict(denoiser)})
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
