"""Render clips: check the request, run the warm pipeline with progress and cancellation, return frames.

Timings are honest about their boundaries. Decoding happens inside the pipeline call for every family, so it
is measured from the callback's timestamps: `denoise_s` runs from the call's start (prompt encoding and
latent setup included, both small) to the end of the last denoising step; `decode_s` from there to frames in
hand (VAE decode + post-processing + conversion to uint8). A pipeline without `callback_on_step_end` gets
the whole call in `denoise_s` and `decode_s = None`.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from typing import Any

import numpy as np
import torch

from generation.engine.device import DeviceChoice, choose_device
from generation.engine.errors import EngineError, InvalidRequest, RenderCancelled, RenderFailed
from generation.engine.lora import apply_loras
from generation.engine.pipeline_cache import LoadedPipeline, PipelineCache, default_cache
from generation.engine.registry import ModelInfo, ModelRegistry
from generation.engine.request import RenderRequest, validate
from generation.engine.windowing import WindowPlan, plan_for, prepared_call

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]  # (steps done, total steps)
CancelFn = Callable[[], bool]
# The settings that must match for clips to share one batched pipeline call.
BATCH_SHARED = ("num_frames", "fps", "width", "height", "steps", "guidance_scale", "model", "loras")


@dataclass
class RenderResult:
    frames: np.ndarray  # uint8 (T, H, W, 3) at the render size
    request: RenderRequest  # resolved: every default filled in
    timings: dict[str, float | None]  # load_s, denoise_s, decode_s, total_s, step_s (mean per step)
    steps_done: int
    device: str
    dtype: str
    model_id: str
    weights_hash: str
    pipeline_class: str
    warm: bool  # True when the pipeline was already loaded: load_s is then 0
    batch_size: int = 1
    savers: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    frame_step: int = 1  # the model's frame granularity (num_frames = frame_step * k + 1)
    call_args: dict[str, Any] = field(default_factory=dict)  # pipeline-specific arguments it was called with
    performance: dict[str, Any] = field(default_factory=dict)  # attention, compile, offload... in effect
    windowing: dict[str, Any] | None = None  # the window plan of a clip longer than the model's native window

    @property
    def frames_hash(self) -> str:
        """SHA-256 over the frames' shape and pixels: equal exactly when two renders produced the same frames."""
        digest = hashlib.sha256(repr(self.frames.shape).encode())
        digest.update(np.ascontiguousarray(self.frames).tobytes())
        return digest.hexdigest()

    @property
    def fps(self) -> int:
        return int(self.request.fps or 0)

    @property
    def notes(self) -> list[str]:
        """What Clipcast changed from the request to fit the model, in words for the marketer."""
        note = self.request.frames_note(self.frame_step)
        return [note] if note else []

    def provenance(self) -> dict[str, Any]:
        """JSON-ready record for the clip row: what produced these frames, and how long it took."""
        requested = self.request.frames_requested
        return {
            "frames_requested": requested if requested is not None else self.request.num_frames,
            "frames_rendered": int(self.frames.shape[0]), "notes": self.notes, "call_args": dict(self.call_args),
            "model_id": self.model_id, "weights_hash": self.weights_hash,
            "frames_hash": self.frames_hash, "pipeline_class": self.pipeline_class,
            "device": self.device, "dtype": self.dtype, "warm": self.warm, "batch_size": self.batch_size,
            "savers": list(self.savers), "timings": dict(self.timings), "versions": dict(self.versions),
            "request": self.request.as_params(), "performance": dict(self.performance), "windowing": self.windowing,
        }


@cache
def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in ("torch", "diffusers", "transformers", "accelerate", "numpy", "av", "imageio-ffmpeg"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


def prepare(
    requests: Sequence[RenderRequest], registry: ModelRegistry | None = None
) -> tuple[list[RenderRequest], ModelInfo]:
    """Resolve the model and validate every request against it (configs only, no weights)."""
    if not requests:
        raise InvalidRequest(["Nothing to render: give at least one request."])
    registry = registry or ModelRegistry()
    info = registry.resolve(requests[0].model)
    resolved = [validate(r, info) for r in requests]
    first = resolved[0]
    for r in resolved[1:]:
        different = [name for name in BATCH_SHARED if getattr(r, name) != getattr(first, name)]
        if different or registry.path_for(r.model)[1] != registry.path_for(first.model)[1]:
            raise InvalidRequest([f"A batch must share its render settings; these differ: {', '.join(different)}."])
    return resolved, info


def warm(
    model: str | None = None,
    *,
    registry: ModelRegistry | None = None,
    device: DeviceChoice | None = None,
    cache: PipelineCache | None = None,
    prime: bool = True,
) -> LoadedPipeline:
    """Load the model into the process cache (call from Celery's `worker_process_init`). With `prime`, also run
    one 1-step render at the model's defaults: the first call through a fresh pipeline pays one-off kernel and
    allocator set-up (2.3 s against 0.5 s for a later call, tiny bundled-layout model on CPU), which belongs to
    worker start, not to the first clip."""
    registry = registry or ModelRegistry()
    info = registry.resolve(model)
    choice = device or choose_device()
    entry, _ = (cache or default_cache).get(info, choice)
    _ = info.weights_hash  # hashing gigabytes of weights belongs to worker start too (cached per process)
    if prime and entry.uses == 1:
        started = time.perf_counter()
        try:
            request = validate(RenderRequest(prompt="warm-up", seed=0, steps=1, model=info.key), info)
        except InvalidRequest as exc:  # defaults that do not form a valid clip: load only, render nothing
            log.warning("engine.prime_skipped model=%s reason=%s", info.key, exc)
            return entry
        _call_pipeline(entry, [request], None, None)
        entry.prime_s = time.perf_counter() - started
    return entry


def render(
    request: RenderRequest,
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
    *,
    registry: ModelRegistry | None = None,
    device: DeviceChoice | None = None,
    cache: PipelineCache | None = None,
) -> RenderResult:
    """Render one clip. Raises `InvalidRequest` before loading anything, `RenderCancelled` from the step where
    `should_cancel()` first returned True, and other `EngineError`s for model problems."""
    return render_batch([request], on_progress, should_cancel, registry=registry, device=device, cache=cache)[0]


def render_batch(
    requests: Sequence[RenderRequest],
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
    *,
    registry: ModelRegistry | None = None,
    device: DeviceChoice | None = None,
    cache: PipelineCache | None = None,
) -> list[RenderResult]:
    """Render clips that share every setting but prompt, negative prompt and seed in ONE pipeline call, with a
    seeded generator per clip. Timings are those of the shared call."""
    resolved, info = prepare(requests, registry)
    choice = device or choose_device()
    if should_cancel is not None and should_cancel():
        raise RenderCancelled(0, int(resolved[0].steps or 0))

    started = time.perf_counter()
    entry, loaded_now = (cache or default_cache).get(info, choice)
    load_s = entry.load_s if loaded_now else 0.0
    apply_loras(entry.pipe, resolved[0].loras)
    plan = plan_for(info, int(resolved[0].num_frames or 0))
    frames, timings, steps_done = _call_pipeline(entry, resolved, on_progress, should_cancel, plan)
    timings = {"load_s": load_s, **timings, "total_s": time.perf_counter() - started}

    weights = info.weights_hash
    results = [
        RenderResult(
            frames=clip, request=r, timings=dict(timings), steps_done=steps_done, device=choice.device,
            dtype=choice.dtype_name, model_id=info.model_id, weights_hash=weights,
            pipeline_class=type(entry.pipe).__name__, warm=not loaded_now, batch_size=len(resolved),
            savers=list(entry.savers), versions=library_versions(), frame_step=info.frame_step,
            call_args=_jsonable(entry.info.call_args), performance=dict(entry.performance),
            windowing=plan.as_dict() if plan else None,
        )
        for r, clip in zip(resolved, frames, strict=True)
    ]
    log.info(
        "engine.rendered model=%s clips=%s frames=%s size=%sx%s steps=%s warm=%s load_s=%.2f denoise_s=%.2f",
        info.key, len(results), resolved[0].num_frames, resolved[0].width, resolved[0].height, steps_done,
        not loaded_now, load_s, timings["denoise_s"] or 0.0,
    )
    return results


def _call_pipeline(
    entry: LoadedPipeline,
    requests: list[RenderRequest],
    on_progress: ProgressFn | None,
    should_cancel: CancelFn | None,
    plan: WindowPlan | None = None,
) -> tuple[list[np.ndarray], dict[str, float | None], int]:
    pipe = entry.pipe
    first = requests[0]
    accepted = set(inspect.signature(pipe.__call__).parameters)  # type: ignore[attr-defined]
    batch = len(requests)
    # A CPU generator gives the same noise on every device, so a seed means the same clip everywhere.
    generators = [torch.Generator("cpu").manual_seed(int(r.seed)) for r in requests]
    negatives = [r.negative_prompt or None for r in requests]
    kwargs: dict[str, Any] = {
        "prompt": [r.prompt for r in requests] if batch > 1 else first.prompt,
        "num_frames": first.num_frames,
        "height": first.height,
        "width": first.width,
        "num_inference_steps": first.steps,
        "guidance_scale": first.guidance_scale,
        "generator": generators if batch > 1 else generators[0],
        "output_type": "np",
    }
    if "frame_rate" in accepted:  # LTX-Video conditions its positions on the fps the clip will play at
        kwargs["frame_rate"] = first.fps
    # None keeps each model's own unconditional embedding (e.g. SDXL's zeros for an empty negative prompt).
    if any(negatives) and "negative_prompt" in accepted:
        kwargs["negative_prompt"] = [n or "" for n in negatives] if batch > 1 else negatives[0]

    stamps: list[float] = []
    total_steps = int(first.steps or 0)
    # Progress counts window passes, so a long clip's bar moves through every window of every step.
    per_step = len(plan.windows) if plan is not None and plan.implementation == "clipcast" else 1

    def on_window(done: int, windows: int) -> None:
        if on_progress is not None and done < windows:
            on_progress(min(len(stamps) * per_step + done, total_steps * per_step), total_steps * per_step)

    def on_step_end(pipeline: object, step: int, timestep: object, callback_kwargs: dict) -> dict:
        stamps.append(time.perf_counter())
        total = int(getattr(pipeline, "_num_timesteps", 0) or total_steps)
        if on_progress is not None:
            on_progress(min(step + 1, total) * per_step, total * per_step)
        if should_cancel is not None and should_cancel():
            raise RenderCancelled(step + 1, total)
        return callback_kwargs

    if "callback_on_step_end" in accepted:
        kwargs["callback_on_step_end"] = on_step_end
        if "callback_on_step_end_tensor_inputs" in accepted:
            kwargs["callback_on_step_end_tensor_inputs"] = []
    unknown = [k for k in kwargs if k not in accepted and "kwargs" not in accepted]
    for key in unknown:  # e.g. an image pipeline without num_frames: let it fail on what it truly needs
        kwargs.pop(key)
    kwargs.update(entry.info.call_args)  # checked against the signature when the folder was inspected

    start = time.perf_counter()
    try:
        with prepared_call(pipe, plan, kwargs, generators, on_window):
            output = pipe(**kwargs)  # type: ignore[operator]
        frames = _to_uint8(output, batch)
        if plan is not None:
            frames = [clip[list(plan.shown)] for clip in frames]  # without lead-in frames and any past the end
    except EngineError:
        raise
    except Exception as exc:  # a raw pipeline traceback means nothing to a marketer
        raise _failure(entry, first, exc) from exc
    end = time.perf_counter()

    if stamps:
        denoise_s: float | None = stamps[-1] - start
        decode_s: float | None = end - stamps[-1]
        steps_done = len(stamps)
        step_s = denoise_s / steps_done
    else:
        denoise_s, decode_s, steps_done, step_s = end - start, None, total_steps, None
        if on_progress is not None:
            on_progress(total_steps * per_step, total_steps * per_step)
    return frames, {"denoise_s": denoise_s, "decode_s": decode_s, "step_s": step_s}, steps_done


def _failure(entry: LoadedPipeline, request: RenderRequest, exc: Exception) -> RenderFailed:
    info = entry.info
    detail = (str(exc).strip().splitlines() or [""])[0][:300].rstrip(".") + "."
    settings = (
        f"{request.num_frames} frames at {request.width}x{request.height} (width x height), {request.steps} steps, "
        f"guidance {request.guidance_scale:g}"
    )
    if info.call_args:
        settings += ", call arguments " + ", ".join(f"{k}={v!r}" for k, v in sorted(info.call_args.items()))
    if isinstance(exc, torch.OutOfMemoryError):
        return RenderFailed(
            f"Model {info.key!r} ran out of memory on {entry.choice.device} rendering {settings}: render fewer "
            "frames or a smaller size, or turn on CPU offload.", permanent=False,
        )
    return RenderFailed(
        f"Model {info.key!r} ({info.pipeline_class}) failed rendering {settings}: {type(exc).__name__}: {detail} "
        "Change the setting the error points at, or set the pipeline argument it needs in the \"call\" section "
        f"of {info.path / 'clipcast.json'}."
    )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | int | float | bool | type(None) | list | dict) else repr(v)
            for k, v in values.items()}


def _to_uint8(output: object, batch: int) -> list[np.ndarray]:
    """Pipelines return frames as (B, T, H, W, C) floats in 0..1 for output_type="np"; some as lists."""
    raw = getattr(output, "frames", None)
    if raw is None:
        raw = output[0]  # type: ignore[index]
    if isinstance(raw, torch.Tensor):
        raw = raw.float().cpu().numpy()
    clips = [np.asarray(clip, dtype=np.float32) for clip in raw]
    if len(clips) != batch:
        raise RuntimeError(f"The pipeline returned {len(clips)} clips for {batch} prompts.")
    out = []
    for clip in clips:
        if clip.ndim != 4:
            raise RuntimeError(f"Expected frames shaped (T, H, W, C); the pipeline returned {clip.shape}.")
        if clip.shape[-1] not in (1, 3, 4) and clip.shape[1] in (1, 3, 4):  # (T, C, H, W)
            clip = clip.transpose(0, 2, 3, 1)
        if clip.shape[-1] == 1:
            clip = np.repeat(clip, 3, axis=-1)
        clip = clip[..., :3]
        out.append((np.clip(clip, 0.0, 1.0) * 255.0).round().astype(np.uint8))
    return out
