"""Model registry: which folder a model key means, and what that folder promises, read without loading weights.

A model is any local diffusers text-to-video folder (`model_index.json` + one subfolder per component). An
optional `clipcast.json` beside `model_index.json` holds the model's render defaults:
`{"guidance_scale", "num_inference_steps", "fps", "height", "width", "max_frames"?, "num_frames"?, "call"?}`.
Every key is optional: without one, native size, frame count and fps come from the pipeline's `__call__` defaults
and its component configs. `call` holds extra keyword arguments for the pipeline's `__call__`
(e.g. `{"max_sequence_length": 226, "decode_timestep": 0.05}`), checked against its signature when the folder
is inspected. For a model that can only draw what it was trained on, `"vocabulary"`
(group -> words; see engine/vocabulary.py).
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
from generation.engine.hotshot_xl import NATIVE_FAMILIES
from generation.engine.hub import HubModel, cached_snapshot, hub_cache_dir
from generation.engine.vocabulary import Vocabulary, parse_vocabulary

BUNDLED_KEY = "bundled"
BUNDLED_PATH = Path(__file__).resolve().parent.parent / "bundled"
# Used when neither clipcast.json nor the component configs say how long a clip may be.
FALLBACK_MAX_FRAMES = 240
FALLBACK_FPS = 8
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".safetensors.index.json", ".bin.index.json")
# The fps each family was trained for, where neither its configs nor its `__call__` say (LTX-Video's
# `frame_rate` default does). From each family's model card / diffusers docs.
FAMILY_FPS = {"WanPipeline": 16, "HunyuanVideoPipeline": 15, "CogVideoXPipeline": 8}
# Arguments Clipcast sets from the request itself: a `call` section may not set them.
RESERVED_CALL_ARGS = {
    "prompt", "negative_prompt", "num_frames", "height", "width", "num_inference_steps", "guidance_scale",
    "generator", "output_type", "callback_on_step_end", "callback_on_step_end_tensor_inputs", "frame_rate",
    "return_dict", "latents", "prompt_embeds", "negative_prompt_embeds", "num_videos_per_prompt",
}
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "spiece.model", "tokenizer_config.json")
# What an operator runs to put a hub model into the cache; `{key}` is the model's key (or its hub id).
FETCH_COMMAND = "python manage.py fetch_model {key}"


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
    # Extra keyword arguments for the pipeline's __call__ (derived from configs, then clipcast.json's `call`).
    call_args: dict[str, Any] = field(default_factory=dict)
    # A closed-vocabulary model's words and their groups (colours, shapes...); None for an open-vocabulary model.
    closed_vocabulary: Vocabulary | None = None
    # For a family Clipcast loads with its own code (Hotshot-XL): one sentence saying so; None for stock diffusers.
    route: str | None = None

    @property
    def vocabulary(self) -> frozenset[str] | None:
        return self.closed_vocabulary.words if self.closed_vocabulary else None

    def unknown_words(self, *texts: str) -> list[str]:
        """Words of `texts` this model was never trained on; always empty for an open-vocabulary model."""
        return self.closed_vocabulary.unknown(texts) if self.closed_vocabulary else []

    def vocabulary_warning(self, *texts: str) -> str | None:
        """One sentence for whoever wrote `texts`, or None when this model knows every word (or any word)."""
        return self.closed_vocabulary.warning_for(texts, repr(self.key)) if self.closed_vocabulary else None

    @property
    def weights_hash(self) -> str:
        return weights_hash(self.path)

    @property
    def model_id(self) -> str:
        return f"{self.name}@sha256:{self.weights_hash[:12]}"


class ModelRegistry:
    """Maps model keys to folders, or to hub ids read from the Hugging Face cache (never downloaded here).
    `bundled` is always known; the glue passes the rest from settings.

    `allow_paths` lets a key be a folder path or a hub id (the CLI and `CLIPCAST_MODEL_PATH`); keep it off for
    keys that come from web users, so they cannot probe the worker's filesystem.
    """

    def __init__(
        self, models: Mapping[str, str | os.PathLike[str]] | None = None, *, default: str = BUNDLED_KEY,
        allow_paths: bool = True, fetch_command: str = FETCH_COMMAND,
    ) -> None:
        self.models: dict[str, Path | HubModel] = {BUNDLED_KEY: BUNDLED_PATH}
        self.models.update({k: _source(v) for k, v in (models or {}).items()})
        if default not in self.models:
            raise ModelNotFound(f"The default model key {default!r} is not configured: use one of {self._known()}.")
        self.default = default
        self.allow_paths = allow_paths
        self.fetch_command = fetch_command

    def _known(self) -> str:
        return ", ".join(sorted(self.models))

    def source_for(self, key: str | None) -> tuple[str, Path | HubModel]:
        """The key and what it names: a folder, or a hub model (which may not be in the cache yet)."""
        key = (key or "").strip() or self.default
        if key in self.models:
            return key, self.models[key]
        if self.allow_paths and _looks_like_path(key):
            return key, _source(key)
        raise ModelNotFound(f"Unknown model {key!r}: use one of {self._known()}.")

    def path_for(self, key: str | None) -> tuple[str, Path]:
        name, source = self.source_for(key)
        if not isinstance(source, HubModel):
            return name, source
        folder = cached_snapshot(source)
        if folder is None:
            raise ModelNotFound(
                f"Model {name!r} ({source}) is not in this machine's Hugging Face cache ({hub_cache_dir()}), and "
                f"workers never download at render time. Run: {self.fetch_command.format(key=name)}"
            )
        return name, folder

    def resolve(self, key: str | None = None) -> ModelInfo:
        name, source = self.source_for(key)
        if not isinstance(source, HubModel):
            return inspect_model(source, key=name)
        path = self.path_for(name)[1]
        try:
            return inspect_model(path, key=name, default_name=source.repo_id)
        except ModelIncomplete as exc:
            raise ModelIncomplete(f"{exc} Its download may have been cut short. "
                                  f"Run: {self.fetch_command.format(key=name)}") from exc

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


def _source(value: str | os.PathLike[str]) -> Path | HubModel:
    """`Org/Name` (or `Org/Name@revision`) is a hub id unless such a folder exists here; anything else is a
    folder. Write a relative folder as `./models/ltx` to make it unmistakable."""
    text = os.fspath(value)
    hub = HubModel.parse(text) if isinstance(value, str) and not text.startswith((".", "~")) else None
    if hub is not None and not Path(text).is_dir():
        return hub
    return Path(text).expanduser()


def inspect_model(
    path: str | os.PathLike[str], key: str | None = None, default_name: str | None = None
) -> ModelInfo:
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
    components = _check_components(folder, index, label)
    if pipeline_class in NATIVE_FAMILIES:
        NATIVE_FAMILIES[pipeline_class].check(folder)
    configs = {name: _component_config(folder / name) for name in components}
    defaults = _defaults(folder, pipeline_class, configs, label)
    size_factor, frame_step = _factors(configs)
    override = _read_clipcast(folder, label)
    call_args = _call_args(pipeline_class, configs, override, label)
    return ModelInfo(
        key=label,
        path=folder.resolve(),
        pipeline_class=pipeline_class,
        name=str(override.get("name") or default_name or folder.resolve().name),
        defaults=defaults,
        size_factor=int(override.get("size_factor", size_factor)),
        frame_step=int(override.get("frame_step", frame_step)),
        components=components,
        null_components=tuple(
            name for name, spec in index.items()
            if not name.startswith("_") and isinstance(spec, list | tuple) and all(v is None for v in spec)
        ),
        call_args=call_args,
        closed_vocabulary=parse_vocabulary(override.get("vocabulary"), label),
        route=NATIVE_FAMILIES[pipeline_class].route if pipeline_class in NATIVE_FAMILIES else None,
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


def _call_params(pipeline_class: str) -> dict[str, inspect.Parameter] | None:
    """The parameters of the pipeline's `__call__`, or None for a class stock diffusers does not have."""
    import diffusers

    cls = getattr(diffusers, pipeline_class, None)
    if cls is None and pipeline_class in NATIVE_FAMILIES:
        cls = NATIVE_FAMILIES[pipeline_class].pipeline_type()
    if cls is None:
        return None
    return dict(inspect.signature(cls.__call__).parameters)


def _call_defaults(pipeline_class: str) -> dict[str, Any]:
    """The pipeline's own `__call__` defaults (num_inference_steps, guidance_scale, num_frames, ...)."""
    params = _call_params(pipeline_class) or {}
    return {n: p.default for n, p in params.items() if p.default is not inspect.Parameter.empty}


def _call_args(
    pipeline_class: str, configs: dict[str, dict], own: dict[str, Any], label: str
) -> dict[str, Any]:
    """Pipeline-specific `__call__` arguments: what the configs imply, then clipcast.json's `call` section."""
    params = _call_params(pipeline_class)
    section = own.get("call", {})
    if not isinstance(section, dict):
        raise ModelIncomplete(f"Model {label!r}: clipcast.json's \"call\" must be an object of argument names "
                              f"and values; got {section!r}.")
    if params is None:
        if section:
            raise UnsupportedModel(
                f"Model {label!r}: clipcast.json's \"call\" section cannot be checked, because stock diffusers "
                f"has no {pipeline_class or 'pipeline class'!s}: remove the section."
            )
        return {}
    derived: dict[str, Any] = {}
    text_len = (configs.get("transformer") or {}).get("max_text_seq_length")
    if "max_sequence_length" in params and isinstance(text_len, int):
        # CogVideoX's positional embedding is sized for exactly this many text tokens; another length crashes.
        derived["max_sequence_length"] = text_len
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    for name in section:
        if name in RESERVED_CALL_ARGS:
            raise ModelIncomplete(
                f"Model {label!r}: clipcast.json's \"call\" section sets {name!r}, which Clipcast sets from each "
                "request: remove it (defaults for frames, size, fps, steps and guidance go at the top level)."
            )
        if name not in params and not takes_any:
            accepted = ", ".join(sorted(n for n in params if n != "self" and n not in RESERVED_CALL_ARGS))
            raise ModelIncomplete(
                f"Model {label!r}: clipcast.json's \"call\" section sets {name!r}, which {pipeline_class}.__call__ "
                f"does not accept: remove it or use one of {accepted}."
            )
    return {**derived, **section}


def _defaults(folder: Path, pipeline_class: str, configs: dict[str, dict], label: str) -> ModelDefaults:
    own = _read_clipcast(folder, label)
    call = _call_defaults(pipeline_class)
    vae = configs.get("vae", {})
    denoiser = configs.get("unet") or configs.get("transformer") or {}
    native = NATIVE_FAMILIES.get(pipeline_class)
    max_frames = (own.get("max_frames") or denoiser.get("motion_max_seq_length") or (native and native.max_frames)
                  or FALLBACK_MAX_FRAMES)
    factor = _vae_spatial(vae)
    native_h, native_w = _native_size(configs, factor)
    height = own.get("height") or call.get("height") or native_h
    width = own.get("width") or call.get("width") or native_w
    sample_frames = denoiser.get("sample_frames") if "transformer" in configs else None  # CogVideoX: 49
    num_frames = own.get("num_frames") or call.get("num_frames") or sample_frames or min(16, int(max_frames))
    fps = own.get("fps") or call.get("frame_rate") or _family_fps(pipeline_class, denoiser)
    try:
        return ModelDefaults(
            guidance_scale=float(own.get("guidance_scale", call.get("guidance_scale", 5.0))),
            num_inference_steps=int(own.get("num_inference_steps", call.get("num_inference_steps", 25))),
            fps=int(fps),
            height=int(height) if height else None,
            width=int(width) if width else None,
            num_frames=int(num_frames),
            max_frames=int(max_frames),
        )
    except (TypeError, ValueError) as exc:
        raise ModelIncomplete(f"Model {label!r}: clipcast.json has a value of the wrong type ({exc}).") from exc


def _native_size(configs: dict[str, dict], factor: int) -> tuple[int | None, int | None]:
    """The size the denoiser was built for, in pixels: a UNet's `sample_size`, or a transformer's
    `sample_height`/`sample_width` (CogVideoX), times the VAE's spatial factor (as the pipelines compute it)."""
    unet, transformer = configs.get("unet"), configs.get("transformer")
    if unet and isinstance(unet.get("sample_size"), int):
        return unet["sample_size"] * factor, unet["sample_size"] * factor
    if transformer and isinstance(transformer.get("sample_height"), int) and isinstance(
        transformer.get("sample_width"), int
    ):
        return transformer["sample_height"] * factor, transformer["sample_width"] * factor
    return None, None


def _family_fps(pipeline_class: str, denoiser: dict[str, Any]) -> int:
    if pipeline_class == "CogVideoXPipeline" and denoiser.get("patch_size_t"):
        return 16  # CogVideoX 1.5 (temporal patches) was trained at 16 fps, 1.0 at 8
    native = NATIVE_FAMILIES.get(pipeline_class)
    return FAMILY_FPS.get(pipeline_class, native.fps if native else FALLBACK_FPS)


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
