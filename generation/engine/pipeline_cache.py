"""Load a pipeline once per process and keep it warm.

A GPU worker holds one pipeline (a second would not fit beside it on most cards), so the cache keeps one
entry: asking for another model or device replaces it. `render.warm` fills it from Celery's `worker_process_init`.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from dataclasses import dataclass, field

import torch

from generation.engine import tuning
from generation.engine.device import DeviceChoice, diffusers_dtype_kwarg
from generation.engine.errors import ModelIncomplete, UnsupportedModel
from generation.engine.hotshot_xl import NATIVE_FAMILIES
from generation.engine.registry import ModelInfo

log = logging.getLogger(__name__)


@dataclass
class LoadedPipeline:
    pipe: object
    info: ModelInfo
    choice: DeviceChoice
    load_s: float  # seconds `from_pretrained` + placement took when this entry was loaded
    savers: list[str] = field(default_factory=list)
    uses: int = 0
    prime_s: float | None = None  # the warm-up render's time, when one was run
    performance: dict = field(default_factory=dict)  # the performance settings in effect (tuning.py)

    @property
    def key(self) -> tuple:
        return cache_key(self.info, self.choice)


def cache_key(info: ModelInfo, choice: DeviceChoice) -> tuple:
    # The performance settings are part of the key: a compiled or quantized denoiser is another pipeline.
    return (str(info.path), choice.device, choice.dtype_name, choice.cpu_offload, choice.performance)


def _dtype_kwarg(choice: DeviceChoice) -> dict[str, torch.dtype]:
    return diffusers_dtype_kwarg(choice.dtype)


def load_pipeline(info: ModelInfo, choice: DeviceChoice) -> LoadedPipeline:
    """`DiffusionPipeline.from_pretrained` from the local folder only; never reaches the hub."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # for child processes; huggingface_hub reads it at import
    from diffusers import DiffusionPipeline

    started = time.perf_counter()
    extra = tuning.load_kwargs(info, choice)
    native = NATIVE_FAMILIES.get(info.pipeline_class)
    try:
        if native is not None:  # a family stock diffusers lacks (Hotshot-XL): Clipcast's own loader
            pipe = native.load(info.path, choice.dtype)
        else:
            pipe = DiffusionPipeline.from_pretrained(
                str(info.path), local_files_only=True, **dict.fromkeys(info.null_components), **_dtype_kwarg(choice),
                **extra,
            )
    except (OSError, ValueError, KeyError) as exc:
        raise ModelIncomplete(
            f"Model {info.key!r} at {info.path} could not be loaded: {exc}. Re-save it with save_pretrained."
        ) from exc
    except AttributeError as exc:  # diffusers looks the pipeline class up by name
        raise UnsupportedModel(
            f"Model {info.key!r} names {info.pipeline_class}, which this diffusers cannot build ({exc}): "
            "upgrade diffusers or use a folder saved by a stock text-to-video pipeline."
        ) from exc
    if callable(getattr(pipe, "set_progress_bar_config", None)):
        pipe.set_progress_bar_config(disable=True)
    savers, in_effect = tuning.prepare_pipeline(pipe, info, choice)
    load_s = time.perf_counter() - started
    log.info(
        "engine.pipeline_loaded model=%s class=%s device=%s dtype=%s load_s=%.2f savers=%s",
        info.key, type(pipe).__name__, choice.device, choice.dtype_name, load_s, ",".join(savers) or "-",
    )
    return LoadedPipeline(pipe=pipe, info=info, choice=choice, load_s=load_s, savers=savers, performance=in_effect)


class PipelineCache:
    """Holds at most `capacity` pipelines, keyed by (folder, device, dtype, offload); thread-safe."""

    def __init__(self, capacity: int = 1) -> None:
        self.capacity = capacity
        self._entries: dict[tuple, LoadedPipeline] = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many times this cache called from_pretrained (tests and the benchmark read it)

    def get(self, info: ModelInfo, choice: DeviceChoice) -> tuple[LoadedPipeline, bool]:
        """The warm pipeline and whether this call loaded it (True means the caller paid `load_s`)."""
        key = cache_key(info, choice)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.uses += 1
                return entry, False
            while len(self._entries) >= self.capacity:
                self._evict(next(iter(self._entries)))
            entry = load_pipeline(info, choice)
            entry.uses = 1
            self._entries[key] = entry
            self.loads += 1
            return entry, True

    def clear(self) -> None:
        with self._lock:
            for key in list(self._entries):
                self._evict(key)

    def _evict(self, key: tuple) -> None:
        entry = self._entries.pop(key)
        log.info("engine.pipeline_evicted model=%s device=%s", entry.info.key, entry.choice.device)
        del entry
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


# One per process: Celery's prefork pool forks before `worker_process_init`, so each child loads its own.
default_cache = PipelineCache()
