"""Model registry: which folder a model key means, and what that folder promises, read without loading weights.

A model is any local diffusers text-to-video folder (`model_index.json` + one subfolder per component). An
optional `clipcast.json` beside `model_index.json` holds the model's render defaults:
`{"guidance_scale", "num_inference_steps", "fps", "height", "width", "max_frames"?, "num_frames"?}`, and, for a
model that can only draw what it was trained on, its `"vocabulary"` (group -> words; see engine/vocabulary.py).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generation.engine.errors import ModelIncomplete, ModelNotFound, UnsupportedModel
from generation.engine.vocabulary import Vocabulary, parse_vocabulary

BUNDLED_KEY = "bundled"
BUNDLED_PATH = Path(__file__).resolve().parent.parent / "bundled"
# Used when neither clipcast.json nor the component configs say how long a clip may be.
FALLBACK_MAX_FRAMES = 240
FALLBACK_FPS = 8
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".safetensors.index.json", ".bin.index.json")
HOTSHOT_CLASSES = {"HotshotXLPipeline"}
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "spiece.model", "tokenizer_config.json")


@dataclass(frozen=True)
class ModelDefaults:
    guidance_scale: float
    num_inference_steps: int
    fps: int
    height: int | None
    width: int | None
    num_frames: int
    max_frames: int


@dataclass(frozen=True)
class ModelInfo:
    """What validation needs to know about a model, read from its configs (no weights are opened)."""

    key: str
    path: Path
    pipeline_class: str
    name: str
    defaults: ModelDefaults
    size_factor: int  # height and width must be multiples of this (VAE scale factor x patch size)
    frame_step: int  # with a temporal VAE, num_frames - 1 must be a multiple of this
    components: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Saved as [null, null] (e.g. AnimateDiff-SDXL without its first text encoder): passed as None when loading,
    # because diffusers refuses to build a pipeline whose non-optional modules are simply absent.
    null_components: tuple[str, ...] = ()
    # A closed-vocabulary model's words and their groups (colours, shapes...); None for an open-vocabulary model.
    closed_vocabulary: Vocabulary | None = None

    @property
    def vocabulary(self) -> frozenset[str] | None:
        return self.closed_vocabulary.words if self.closed_vocabulary else None

    def unknown_words(self, *texts: str) -> list[str]:
        """Words of `texts` this model was never trained on; always empty for an open-vocabulary model."""
        return self.closed_vocabulary.unknown(texts) if self.closed_vocabulary else []

    def vocabulary_warning(self, *texts: str) -> str | None:
        """One sentence for whoever wrote `texts`, or None when this model knows every word (or any word)."""
        unknown = self.unknown_words(*texts)
        if not unknown or self.closed_vocabulary is None:
            return None
        return self.closed_vocabulary.warning(unknown, repr(self.key))

    @property
    def weights_hash(self) -> str:
        return weights_hash(self.path)

    @property
    def model_id(self) -> str:
        return f"{self.name}@sha256:{self.weights_hash[:12]}"


class ModelRegistry:
    """Maps model keys to folders. `bundled` is always known; the glue passes the rest from settings.

    `allow_paths` lets a key be a folder path (the CLI and `CLIPCAST_MODEL_PATH`); keep it off for keys that
    come from web users, so they cannot probe the worker's filesystem.
    """

    def __init__(
        self, models: Mapping[str, str | os.PathLike[str]] | None = None, *, default: str = BUNDLED_KEY,
        allow_paths: bool = True,
    ) -> None:
        self.models: dict[str, Path] = {BUNDLED_KEY: BUNDLED_PATH}
        self.models.update({k: Path(v).expanduser() for k, v in (models or {}).items()})
        if default not in self.models:
            raise ModelNotFound(f"The default model key {default!r} is not configured: use one of {self._known()}.")
        self.default = default
        self.allow_paths = allow_paths

    def _known(self) -> str:
        return ", ".join(sorted(self.models))

    def path_for(self, key: str | None) -> tuple[str, Path]:
        key = (key or "").strip() or self.default
        if key in self.models:
            return key, self.models[key]
        if self.allow_paths and _looks_like_path(key):
            return key, Path(key).expanduser()
        raise ModelNotFound(f"Unknown model {key!r}: use one of {self._known()}.")

    def resolve(self, key: str | None = None) -> ModelInfo:
        name, path = self.path_for(key)
        return inspect_model(path, key=name)

    def vocabulary(self, key: str | None = None) -> tuple[str, Vocabulary | None]:
        """The model's name and closed vocabulary (None: open), from clipcast.json alone: cheap enough to ask on
        every keystroke of a prompt editor, unlike `resolve`, which imports diffusers for the pipeline defaults."""
        name, path = self.path_for(key)
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise ModelNotFound(f"Model {name!r}: folder {folder} does not exist.")
        return name, parse_vocabulary(_read_clipcast(folder, name).get("vocabulary"), name)


def _looks_like_path(key: str) -> bool:
    return os.sep in key or "/" in key or key.startswith(("~", "."))


def inspect_model(path: str | os.PathLike[str], key: str | None = None) -> ModelInfo:
    """Check a diffusers folder is complete and read its render limits and defaults. Opens configs only."""
    folder = Path(path).expanduser()
    label = key or str(folder)
    if not folder.is_dir():
        hint = " The bundled model ships with Clipcast: restore generation/bundled/." if key == BUNDLED_KEY else ""
        raise ModelNotFound(f"Model {label!r}: folder {folder} does not exist.{hint}")
    index_file = folder / "model_index.json"
    if not index_file.is_file():
        raise ModelIncomplete(
            f"Model {label!r}: {folder} has no model_index.json, so it is not a diffusers pipeline folder. "
            "Point at the folder that `save_pretrained` wrote."
        )
    index = _read_json(index_file, label)
    pipeline_class = str(index.get("_class_name", ""))
    if pipeline_class in HOTSHOT_CLASSES:
        raise UnsupportedModel(
            f"Model {label!r} is a Hotshot-XL folder: its model_index.json names {pipeline_class}, which stock "
            "diffusers cannot load. Use an AnimateDiff-SDXL folder instead (an SDXL base and an SDXL motion "
            "adapter saved together with AnimateDiffSDXLPipeline.save_pretrained), or load Hotshot-XL with its "
            "own hotshot_xl package outside Clipcast."
        )
    components = _check_components(folder, index, label)
    configs = {name: _component_config(folder / name) for name in components}
    defaults = _defaults(folder, pipeline_class, configs, label)
    size_factor, frame_step = _factors(configs)
    override = _read_clipcast(folder, label)
    return ModelInfo(
        key=label,
        path=folder.resolve(),
        pipeline_class=pipeline_class,
        name=str(override.get("name") or folder.resolve().name),
        defaults=defaults,
        size_factor=int(override.get("size_factor", size_factor)),
        frame_step=int(override.get("frame_step", frame_step)),
        components=components,
        null_components=tuple(
            name for name, spec in index.items()
            if not name.startswith("_") and isinstance(spec, list | tuple) and all(v is None for v in spec)
        ),
        closed_vocabulary=parse_vocabulary(override.get("vocabulary"), label),
    )


def _read_json(path: Path, label: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelIncomplete(f"Model {label!r}: {path.name} is unreadable ({exc}); re-save the model.") from exc
    if not isinstance(data, dict):
        raise ModelIncomplete(f"Model {label!r}: {path.name} is not a JSON object; re-save the model.")
    return data


def _read_clipcast(folder: Path, label: str) -> dict[str, Any]:
    path = folder / "clipcast.json"
    return _read_json(path, label) if path.is_file() else {}


def _check_components(folder: Path, index: dict[str, Any], label: str) -> dict[str, tuple[str, str]]:
    """Every non-null component must have its folder and the files its class needs to load."""
    found: dict[str, tuple[str, str]] = {}
    for name, spec in index.items():
        if name.startswith("_") or not isinstance(spec, list | tuple) or len(spec) != 2 or None in spec:
            continue
        library, cls = str(spec[0]), str(spec[1])
        sub = folder / name
        if not sub.is_dir():
            raise ModelIncomplete(f"Model {label!r}: component {name!r} ({cls}) is missing: {sub} does not exist.")
        files = [p.name for p in sub.iterdir() if p.is_file()]
        if "Scheduler" in cls:
            needed_ok, what = "scheduler_config.json" in files, "scheduler_config.json"
        elif "Tokenizer" in cls:
            needed_ok = any(f in files for f in TOKENIZER_FILES)
            what = "tokenizer files (tokenizer.json or vocab.json)"
        elif "Processor" in cls or "FeatureExtractor" in cls:
            needed_ok, what = bool(files), "its config"
        else:
            if "config.json" not in files:
                raise ModelIncomplete(f"Model {label!r}: component {name!r} ({cls}) has no config.json in {sub}.")
            needed_ok = any(f.endswith(WEIGHT_SUFFIXES) for f in files)
            what = "weights (*.safetensors)"
        if not needed_ok:
            raise ModelIncomplete(f"Model {label!r}: component {name!r} ({cls}) lacks {what} in {sub}.")
        found[name] = (library, cls)
    if not found:
        raise ModelIncomplete(f"Model {label!r}: model_index.json lists no components; re-save the model.")
    return found


def _component_config(sub: Path) -> dict[str, Any]:
    for name in ("config.json", "scheduler_config.json"):
        path = sub / name
        if path.is_file():
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def _call_defaults(pipeline_class: str) -> dict[str, Any]:
    """The pipeline's own `__call__` defaults (num_inference_steps, guidance_scale, num_frames, ...)."""
    import diffusers

    cls = getattr(diffusers, pipeline_class, None)
    if cls is None:
        return {}
    params = inspect.signature(cls.__call__).parameters
    return {n: p.default for n, p in params.items() if p.default is not inspect.Parameter.empty}


def _defaults(folder: Path, pipeline_class: str, configs: dict[str, dict], label: str) -> ModelDefaults:
    own = _read_clipcast(folder, label)
    call = _call_defaults(pipeline_class)
    vae = configs.get("vae", {})
    denoiser = configs.get("unet") or configs.get("transformer") or {}
    max_frames = own.get("max_frames") or denoiser.get("motion_max_seq_length") or FALLBACK_MAX_FRAMES
    native = denoiser.get("sample_size")
    factor = _vae_spatial(vae)
    native_px = native * factor if isinstance(native, int) and "unet" in configs else None
    height = own.get("height") or call.get("height") or native_px
    width = own.get("width") or call.get("width") or native_px
    num_frames = own.get("num_frames") or call.get("num_frames") or min(16, int(max_frames))
    try:
        return ModelDefaults(
            guidance_scale=float(own.get("guidance_scale", call.get("guidance_scale", 5.0))),
            num_inference_steps=int(own.get("num_inference_steps", call.get("num_inference_steps", 25))),
            fps=int(own.get("fps", FALLBACK_FPS)),
            height=int(height) if height else None,
            width=int(width) if width else None,
            num_frames=int(num_frames),
            max_frames=int(max_frames),
        )
    except (TypeError, ValueError) as exc:
        raise ModelIncomplete(f"Model {label!r}: clipcast.json has a value of the wrong type ({exc}).") from exc


def _vae_spatial(vae: dict[str, Any]) -> int:
    for key in ("scale_factor_spatial", "spatial_compression_ratio"):
        if isinstance(vae.get(key), int):
            return vae[key]
    if "spatio_temporal_scaling" in vae:  # LTX computes its ratio when the config leaves it null
        return int(vae.get("patch_size", 1)) * 2 ** sum(bool(s) for s in vae["spatio_temporal_scaling"])
    if "temperal_downsample" in vae:  # Wan's spelling
        return 2 ** len(vae["temperal_downsample"])
    blocks = vae.get("block_out_channels")
    return 2 ** (len(blocks) - 1) if blocks else 8


def _vae_temporal(vae: dict[str, Any]) -> int:
    for key in ("scale_factor_temporal", "temporal_compression_ratio"):
        if isinstance(vae.get(key), int | float):
            return int(vae[key])
    if "spatio_temporal_scaling" in vae:
        return int(vae.get("patch_size_t", 1)) * 2 ** sum(bool(s) for s in vae["spatio_temporal_scaling"])
    if "temperal_downsample" in vae:
        return 2 ** sum(bool(s) for s in vae["temperal_downsample"])
    return 1


def _factors(configs: dict[str, dict]) -> tuple[int, int]:
    vae = configs.get("vae", {})
    patch = configs.get("transformer", {}).get("patch_size", 1) or 1
    spatial_patch = int(patch[-1]) if isinstance(patch, list | tuple) else int(patch)
    return _vae_spatial(vae) * spatial_patch, _vae_temporal(vae)


_hash_lock = threading.Lock()
_hash_cache: dict[tuple[str, tuple], str] = {}


def weights_hash(path: str | os.PathLike[str]) -> str:
    """sha256 over every *.safetensors file (relative name + bytes), cached per process until a file changes."""
    folder = Path(path).resolve()
    files = sorted(p for p in folder.rglob("*.safetensors") if p.is_file())
    stamp = tuple((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    key = (str(folder), stamp)
    with _hash_lock:
        if key in _hash_cache:
            return _hash_cache[key]
    digest = hashlib.sha256()
    for p in files:
        digest.update(str(p.relative_to(folder)).encode() + b"\0")
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    value = digest.hexdigest()
    with _hash_lock:
        _hash_cache[key] = value
    return value
