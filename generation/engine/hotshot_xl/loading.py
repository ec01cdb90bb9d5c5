"""Load a Hotshot-XL folder as it was published (model_index.json `_class_name: HotshotXLPipeline`), no conversion.

Stock components (VAE, CLIP text encoders and tokenizers, scheduler) load with their own libraries; the UNet loads
into `HotshotXLUNet` strictly: every tensor in the checkpoint must land in a parameter or buffer of the same shape,
and every parameter and buffer must come from the checkpoint. A mismatch is an error naming the keys, never a
silently half-random model.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import torch

from generation.engine.device import diffusers_dtype_kwarg
from generation.engine.errors import ModelIncomplete, UnsupportedModel
from generation.engine.hotshot_xl.pipeline import HotshotXLPipeline
from generation.engine.hotshot_xl.unet import HotshotXLUNet, unsupported_settings

UNET_WEIGHTS = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors",
                "diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.bin")
SHARD_INDEXES = ("diffusion_pytorch_model.safetensors.index.json", "diffusion_pytorch_model.bin.index.json")


def read_unet_config(folder: Path) -> dict[str, Any]:
    path = Path(folder) / "config.json"
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelIncomplete(f"Hotshot-XL UNet config {path} is unreadable ({exc}); re-download the folder.") from exc
    problems = unsupported_settings(config)
    if problems:
        raise UnsupportedModel(
            f"{path} is not a Hotshot-XL UNet Clipcast can run: {'; '.join(problems)}. Use the unet folder published "
            "with Hotshot-XL (hotshotco/Hotshot-XL) or a fine-tune of it that kept its architecture."
        )
    return config


def unet_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    accepted = set(inspect.signature(HotshotXLUNet.__init__).parameters) - {"self"}
    return {k: v for k, v in config.items() if k in accepted}


def read_state_dict(folder: Path) -> dict[str, torch.Tensor]:
    folder = Path(folder)
    files: list[Path] = []
    for index_name in SHARD_INDEXES:
        if (folder / index_name).is_file():
            index = json.loads((folder / index_name).read_text())
            files = [folder / name for name in sorted(set(index.get("weight_map", {}).values()))]
            break
    if not files:
        files = [folder / name for name in UNET_WEIGHTS if (folder / name).is_file()][:1]
    if not files:
        raise ModelIncomplete(
            f"Hotshot-XL UNet weights are missing in {folder}: expected one of {', '.join(UNET_WEIGHTS)}."
        )
    state: dict[str, torch.Tensor] = {}
    for path in files:
        if path.name.endswith(".safetensors"):
            from safetensors.torch import load_file

            state.update(load_file(str(path)))
        else:
            state.update(torch.load(path, map_location="cpu", weights_only=True))
    return state


def load_unet(folder: str | Path, dtype: torch.dtype = torch.float32) -> HotshotXLUNet:
    """Build the UNet from `folder/config.json` with no memory behind it, then give it the checkpoint's tensors."""
    folder = Path(folder)
    config = read_unet_config(folder)
    with torch.device("meta"):
        unet = HotshotXLUNet(**unet_kwargs(config))
    state = read_state_dict(folder)
    expected = unet.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = sorted(k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape))
    if missing or unexpected or wrong_shape:
        def some(keys: list[str]) -> str:
            return ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")

        parts = [f"{len(missing)} missing ({some(missing)})" if missing else "",
                 f"{len(unexpected)} not used ({some(unexpected)})" if unexpected else "",
                 f"{len(wrong_shape)} of another shape ({some(wrong_shape)})" if wrong_shape else ""]
        raise ModelIncomplete(
            f"Hotshot-XL UNet weights in {folder} do not match its config.json: "
            f"{'; '.join(p for p in parts if p)}. Re-download the unet folder, or fix config.json to match it."
        )
    # Cast tensor by tensor, dropping each original as we go: a 5.6 GB checkpoint is never held twice.
    unet.load_state_dict({k: state.pop(k).to(dtype) for k in list(state)}, strict=True, assign=True)
    return unet.eval()


def _component(folder: Path, name: str, spec: Any, dtype: torch.dtype) -> Any:
    if not isinstance(spec, list | tuple) or len(spec) != 2 or None in spec:
        return None
    library, class_name = str(spec[0]), str(spec[1])
    sub = folder / name
    if name == "unet":
        return load_unet(sub, dtype)
    if library not in ("diffusers", "transformers"):
        raise UnsupportedModel(
            f"Hotshot-XL folder {folder}: component {name!r} is {library}.{class_name}; Clipcast loads the UNet "
            "natively and every other component with diffusers or transformers."
        )
    import diffusers
    import transformers

    cls = getattr(diffusers if library == "diffusers" else transformers, class_name, None)
    if cls is None:
        raise UnsupportedModel(f"Hotshot-XL folder {folder}: {library} has no class {class_name} (component {name!r}).")
    if "Tokenizer" in class_name or "Scheduler" in class_name:
        return cls.from_pretrained(str(sub), local_files_only=True) if library == "transformers" else (
            cls.from_pretrained(str(sub))
        )
    if library == "transformers":
        return cls.from_pretrained(str(sub), local_files_only=True, dtype=dtype).eval()
    return cls.from_pretrained(str(sub), **diffusers_dtype_kwarg(dtype)).eval()


def load_hotshot_xl(folder: str | Path, dtype: torch.dtype = torch.float32) -> HotshotXLPipeline:
    """The whole pipeline from an original Hotshot-XL folder (local files only)."""
    folder = Path(folder)
    index = json.loads((folder / "model_index.json").read_text())
    names = ("vae", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2", "unet", "scheduler")
    parts = {name: _component(folder, name, index.get(name), dtype) for name in names}
    for required in ("vae", "text_encoder_2", "tokenizer_2", "unet", "scheduler"):
        if parts[required] is None:
            raise ModelIncomplete(f"Hotshot-XL folder {folder}: model_index.json lists no {required!r}.")
    zeros = bool(index.get("force_zeros_for_empty_prompt", True))
    return HotshotXLPipeline(**parts, force_zeros_for_empty_prompt=zeros)
