"""LoRAs: check a file's keys against a model without loading either, and switch adapters on a warm pipeline.

A LoRA file is a safetensors file in diffusers/PEFT layout (`unet.<module>.lora_A.weight`, as
`save_lora_weights` writes it; the prefix is the pipeline component it adapts) or in the kohya layout
(`lora_unet_<module with underscores>.lora_down.weight`). `check_lora` reads the file's header and the
safetensors headers of the model folder's components: names and shapes only, no tensors.

On a worker, `apply_loras` loads each adapter once (named by the file's sha256) and then only switches the active
set and its weights, so changing brand between clips never reloads the base model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import struct
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from generation.engine.errors import EngineError
from generation.engine.registry import ModelInfo

log = logging.getLogger(__name__)

MIN_WEIGHT, MAX_WEIGHT = -2.0, 2.0
MAX_LORAS_PER_RENDER = 5
# Adapters kept loaded on one pipeline; the least recently used beyond this are deleted (they are small, but a
# worker serving many brands for days must not grow without bound).
MAX_LOADED_ADAPTERS = 16
MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit on the JSON header
# A LoRA key's tail, after the module it adapts.
LORA_SUFFIXES = (
    ".lora_A.weight", ".lora_B.weight", ".lora_A.bias", ".lora_B.bias", ".lora.down.weight", ".lora.up.weight",
    ".lora_down.weight", ".lora_up.weight", ".lora_magnitude_vector", ".alpha", ".dora_scale",
)
# kohya names: prefix -> the pipeline component it adapts.
KOHYA_PREFIXES = {"lora_unet_": "unet", "lora_te_": "text_encoder", "lora_te1_": "text_encoder",
                  "lora_te2_": "text_encoder_2", "lora_transformer_": "transformer"}
SHOWN_UNMATCHED = 10


class InvalidLora(EngineError):
    """The file is not a LoRA this model can use: the message says why and what to do."""


@dataclass(frozen=True)
class LoraWeights:
    """One LoRA to apply in a render: its file (a local path or the bytes), the adapter name (the file's sha256,
    so one file is loaded once however many campaigns use it) and its weight."""

    source: str | os.PathLike[str] | bytes
    adapter_name: str
    weight: float = 1.0
    name: str = ""

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], weight: float = 1.0) -> LoraWeights:
        """A local file, named by its sha256 (as the service names uploaded ones)."""
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return cls(Path(path), digest.hexdigest(), weight, Path(path).stem)

    def record(self) -> dict[str, object]:
        """What provenance keeps of it (never the bytes)."""
        return {"name": self.name, "sha256": self.adapter_name, "weight": self.weight}


@dataclass(frozen=True)
class LoraCheck:
    """What `check_lora` learnt about an accepted file."""

    components: tuple[str, ...]  # the pipeline components it adapts, e.g. ("unet",)
    modules: int  # how many modules it adapts
    rank: int | None  # the largest LoRA rank found, when the shapes tell it


def read_header(source: str | os.PathLike[str] | bytes | BinaryIO) -> dict[str, dict]:
    """The tensor entries (name -> {dtype, shape, data_offsets}) of a safetensors file, from its header alone."""
    if isinstance(source, bytes):
        return _parse_header(source[:8], lambda n: source[8:8 + n], len(source))
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            return read_header(handle)
    start = source.tell() if source.seekable() else 0
    try:
        size = source.seek(0, os.SEEK_END) - start if source.seekable() else None
        if source.seekable():
            source.seek(start)
        return _parse_header(source.read(8), source.read, size)
    finally:
        if source.seekable():
            source.seek(start)


def _parse_header(prefix: bytes, read, size: int | None) -> dict[str, dict]:
    not_safetensors = InvalidLora(
        "This file is not a safetensors file: upload the LoRA's .safetensors file (as save_lora_weights or "
        "kohya's trainer writes it), not a .ckpt, .pt or archive."
    )
    if len(prefix) != 8:
        raise not_safetensors
    (length,) = struct.unpack("<Q", prefix)
    if not 2 <= length <= MAX_HEADER_BYTES or (size is not None and 8 + length > size):
        raise not_safetensors
    raw = read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise not_safetensors from exc
    if not isinstance(header, dict):
        raise not_safetensors
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    if any(not isinstance(v, dict) or not _is_shape(v.get("shape")) for v in tensors.values()):
        raise not_safetensors
    return tensors


def _is_shape(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value)


def component_modules(info: ModelInfo, component: str) -> dict[str, list[int]]:
    """Module name -> weight shape of one pipeline component, from the safetensors headers in its folder (and,
    for AnimateDiff's UNet, the motion adapter's, which the pipeline merges into it)."""
    folders = [info.path / component]
    if component == "unet" and "motion_adapter" in info.components:
        folders.append(info.path / "motion_adapter")
    shapes: dict[str, list[int]] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob("*.safetensors")):
            for key, entry in read_header(file).items():
                module, _, leaf = key.rpartition(".")
                if leaf == "weight":
                    shapes[module] = entry["shape"]
                else:
                    shapes.setdefault(module, [])
    return shapes


def _split_key(key: str) -> tuple[str, str, str] | None:
    """(component, module, suffix) of a LoRA key, or None when it names no adapted module."""
    suffix = next((s for s in LORA_SUFFIXES if key.endswith(s)), None)
    if suffix is None:
        return None
    stem = key[: -len(suffix)]
    for prefix, component in KOHYA_PREFIXES.items():
        if stem.startswith(prefix):
            return component, stem[len(prefix):], suffix
    component, dot, module = stem.partition(".")
    if not dot:
        return None
    return component, module, suffix


def check_lora(source: str | os.PathLike[str] | bytes | BinaryIO, info: ModelInfo) -> LoraCheck:
    """Accept a LoRA only when every key adapts a module this model has, with matching shapes. Raises
    `InvalidLora` naming the first unmatched keys (a LoRA for another base model matches none or few)."""
    tensors = read_header(source)
    if not tensors:
        raise InvalidLora("This safetensors file holds no tensors: it is not a LoRA.")
    components = set(info.components)
    modules: dict[str, dict[str, list[int]]] = {}
    kohya_names: dict[str, dict[str, str]] = {}  # kohya writes module names with underscores for dots
    unmatched: list[str] = []
    adapted: set[tuple[str, str]] = set()
    rank: int | None = None
    for key, entry in sorted(tensors.items()):
        parts = _split_key(key)
        if parts is None:
            unmatched.append(key)
            continue
        component, module, suffix = parts
        if component not in components:
            unmatched.append(key)
            continue
        if component not in modules:
            modules[component] = component_modules(info, component)
            kohya_names[component] = {name.replace(".", "_"): name for name in modules[component]}
        known = modules[component]
        target = module if module in known else kohya_names[component].get(module)
        if target is None or not _shape_fits(suffix, entry["shape"], known[target]):
            unmatched.append(key)
            continue
        adapted.add((component, target))
        if suffix in (".lora_A.weight", ".lora.down.weight", ".lora_down.weight") and entry["shape"]:
            rank = max(rank or 0, int(entry["shape"][0]))
    if unmatched:
        shown = ", ".join(unmatched[:SHOWN_UNMATCHED])
        more = f" and {len(unmatched) - SHOWN_UNMATCHED} more" if len(unmatched) > SHOWN_UNMATCHED else ""
        raise InvalidLora(
            f"{len(unmatched)} of {len(tensors)} keys of this LoRA match nothing in model {info.key!r} "
            f"({info.name}): {shown}{more}. Upload a LoRA trained for this model, or pick the model it was "
            "trained for."
        )
    if not adapted:
        raise InvalidLora(f"This file adapts no module of model {info.key!r}: it is not a LoRA for it.")
    return LoraCheck(components=tuple(sorted({c for c, _ in adapted})), modules=len(adapted), rank=rank)


def _shape_fits(suffix: str, lora_shape: list[int], weight_shape: list[int]) -> bool:
    """lora_A/down reads the module's input features, lora_B/up writes its output features."""
    if not weight_shape or len(lora_shape) < 2 or len(weight_shape) < 2:
        return True
    if suffix in (".lora_A.weight", ".lora.down.weight", ".lora_down.weight"):
        return lora_shape[1] == weight_shape[1]
    if suffix in (".lora_B.weight", ".lora.up.weight", ".lora_up.weight"):
        return lora_shape[0] == weight_shape[0]
    return True


def weight_problems(loras: Sequence[LoraWeights]) -> list[str]:
    """Checks on the LoRA list of a render request (validate() adds these to its own)."""
    problems = []
    if len(loras) > MAX_LORAS_PER_RENDER:
        problems.append(f"A clip can use at most {MAX_LORAS_PER_RENDER} LoRAs; this one names {len(loras)}.")
    names = [lora.adapter_name for lora in loras]
    if len(set(names)) != len(names):
        problems.append("The same LoRA file is named twice: give it once, with the weight you want.")
    for lora in loras:
        weight = lora.weight
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) \
                or not MIN_WEIGHT <= weight <= MAX_WEIGHT:
            problems.append(f"LoRA {lora.name or lora.adapter_name[:12]!r} has weight {weight!r}: use a number "
                            f"from {MIN_WEIGHT:g} to {MAX_WEIGHT:g}.")
    return problems


def _loaded(pipe: object) -> OrderedDict[str, None]:
    """The adapters this module loaded into `pipe`, least recently used first."""
    lru = getattr(pipe, "_clipcast_loras", None)
    if lru is None:
        lru = OrderedDict()
        pipe._clipcast_loras = lru  # type: ignore[attr-defined]
    return lru


def loaded_adapters(pipe: object) -> list[str]:
    return list(_loaded(pipe))


def apply_loras(pipe: object, loras: Iterable[LoraWeights]) -> None:
    """Make exactly `loras` active on `pipe` with their weights; with none, LoRAs are switched off. Each adapter is
    loaded at most once per pipeline; the base weights are never reloaded."""
    loras = list(loras)
    lru = _loaded(pipe)
    if not loras:
        if lru:
            pipe.disable_lora()  # type: ignore[attr-defined]
        return
    if not callable(getattr(pipe, "load_lora_weights", None)):
        raise InvalidLora(f"This model's pipeline ({type(pipe).__name__}) cannot load LoRAs: render without them.")
    for lora in loras:
        if lora.adapter_name in lru:
            lru.move_to_end(lora.adapter_name)
            continue
        _evict_beyond(pipe, lru, MAX_LOADED_ADAPTERS - 1, keep={x.adapter_name for x in loras})
        source = lora.source if isinstance(lora.source, bytes) else str(Path(lora.source))
        try:
            if isinstance(source, bytes):
                from safetensors.torch import load as load_bytes

                source = load_bytes(source)
            with warnings.catch_warnings():  # several adapters on one model is the point, not a mistake
                warnings.filterwarnings("ignore", message="Already found a `peft_config` attribute")
                pipe.load_lora_weights(source, adapter_name=lora.adapter_name)  # type: ignore[attr-defined]
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise InvalidLora(
                f"LoRA {lora.name or lora.adapter_name[:12]!r} could not be loaded into this model: "
                f"{(str(exc).strip().splitlines() or [''])[0][:300]}. Upload a LoRA trained for this model."
            ) from exc
        lru[lora.adapter_name] = None
        log.info("engine.lora_loaded adapter=%s name=%s", lora.adapter_name[:12], lora.name)
    pipe.enable_lora()  # type: ignore[attr-defined]
    pipe.set_adapters([x.adapter_name for x in loras], adapter_weights=[float(x.weight) for x in loras])  # type: ignore[attr-defined]


def _evict_beyond(pipe: object, lru: OrderedDict[str, None], keep_at_most: int, keep: set[str]) -> None:
    for name in list(lru):
        if len(lru) <= keep_at_most:
            return
        if name in keep:
            continue
        pipe.delete_adapters([name])  # type: ignore[attr-defined]
        del lru[name]
        log.info("engine.lora_evicted adapter=%s", name[:12])
