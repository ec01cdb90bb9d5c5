"""Clips longer than a model's native window: overlapping context windows denoised together (FreeNoise).

FreeNoise (Qiu et al., 2023, "FreeNoise: Tuning-Free Longer Video Diffusion via Noise Rescheduling") makes a
short-window video model render long clips with two moves: the denoiser sees the clip through overlapping
windows no longer than its native length, whose predictions are fused frame by frame with weights that fall
towards each window's edges; and the initial noise of later frames re-uses (a shuffle of) the first window's
noise, so every window starts from the same content and the subject keeps its identity.

Where diffusers implements it (`enable_free_noise` on `AnimateDiffPipeline` and its relatives) the engine uses
diffusers' own. Elsewhere, for a UNet that takes frames on axis 2 (`UNetMotionModel` of AnimateDiff-SDXL, the
bundled model's family; `UNet3DConditionModel`), this module windows the whole denoiser call:

- `overlap` (the paper's plan): windows of the native length every `stride` frames, the last one aligned to the
  clip's end, pyramid fusion weights, the noise of each new block a seeded shuffle of the window before it;
- `mirror` (for models trained on clips in which motion spans the whole window, like the bundled model's shape
  crossing the frame in 3 s): windows that share one frame, every other one read backwards in time, and the
  noise of every window the first window's noise in its own time. Each window renders the same clip, forwards or
  backwards, so the subject turns back at each shared frame (a moving shape bounces, a growing one shrinks
  back) and no two windows disagree about where it is. Two overlapping windows of the overlap plan would each
  start the crossing at their own first frame, and their fusion draws two half-shapes.

Families whose VAE compresses time (LTX-Video, Wan, CogVideoX) have long native windows and are never windowed.
A model folder chooses in its clipcast.json: `"windowing": {"mode": "mirror" | "overlap", "stride": N,
"max_frames": N}`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import torch

from generation.engine.errors import InvalidRequest
from generation.engine.registry import ModelInfo

MODES = ("mirror", "overlap")
WEIGHTINGS = ("pyramid", "flat")
# Families whose denoiser takes (batch, channels, frames, height, width) and holds no state across frames
# outside its temporal layers, so a call on a window of frames is a call on a shorter clip.
WINDOWABLE = {"AnimateDiffPipeline", "AnimateDiffSDXLPipeline", "TextToVideoSDPipeline"}
# diffusers' own FreeNoise: `enable_free_noise(context_length, context_stride, weighting_scheme, noise_type)`.
DIFFUSERS_FREE_NOISE = {"AnimateDiffPipeline"}
# Without a "max_frames" of its own, a windowed model renders up to 10 native windows, at most 240 frames (30 s at 8
# fps; a model that declares no window at all already gets 240 in one).
WINDOWED_LIMIT_FACTOR, WINDOWED_MAX_FRAMES = 10, 240
WindowFn = Callable[[int, int], None]  # (windows done in this step, windows per step)


@dataclass(frozen=True)
class Window:
    """The latent frames one denoiser call sees, in the order it sees them (its own time): a window that runs
    backwards lists its frames in reverse."""

    frames: tuple[int, ...]

    @property
    def length(self) -> int:
        return len(self.frames)

    @property
    def backwards(self) -> bool:
        return len(self.frames) > 1 and self.frames[-2] > self.frames[-1]  # (a lead-in frame may come first)


@dataclass(frozen=True)
class WindowPlan:
    """How a clip of `num_frames` is denoised through windows of at most `native` frames.

    The pipeline denoises `rendered_frames` latent frames; `shown[i]` is the latent frame that becomes the clip's
    frame i (a mirror plan keeps a few lead-in frames that no clip frame shows)."""

    mode: str
    num_frames: int
    rendered_frames: int
    native: int
    stride: int
    windows: tuple[Window, ...]
    shown: tuple[int, ...]
    weighting: str = "pyramid"
    implementation: str = "clipcast"  # or "diffusers" (enable_free_noise)

    @property
    def window_frames(self) -> int:
        """Frames the denoiser processes per step, over all windows (its cost against one native window)."""
        return sum(w.length for w in self.windows)

    @property
    def boundaries(self) -> list[int]:
        """Clip frames where one window hands over to the next: the first clip frame each later window shows."""
        position = {latent: i for i, latent in enumerate(self.shown)}
        found = []
        for window in self.windows[1:]:
            shown = [position[f] for f in window.frames if f in position]
            found.append(min(shown))
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode, "implementation": self.implementation, "native_window": self.native,
            "window": max(w.length for w in self.windows), "stride": self.stride, "windows": len(self.windows),
            "weighting": self.weighting, "rendered_frames": self.rendered_frames, "boundaries": self.boundaries,
            "backwards": [w.backwards for w in self.windows],
            "noise": "each window the first window's noise in its own time" if self.mode == "mirror"
            else "FreeNoise: each new block a seeded shuffle of the window before it",
        }


@dataclass(frozen=True)
class WindowSettings:
    mode: str
    stride: int | None
    max_frames: int
    weighting: str


def settings_for(info: ModelInfo) -> WindowSettings | None:
    """The model's windowing settings, or None when it renders every length it accepts in one native window."""
    if info.frame_step > 1 or info.pipeline_class not in WINDOWABLE:
        return None
    own = _clipcast_section(info)
    native = info.defaults.max_frames
    mode = own.get("mode", "overlap")
    weighting = own.get("weighting", "pyramid")
    stride = own.get("stride")
    max_frames = own.get("max_frames", max(native, min(native * WINDOWED_LIMIT_FACTOR, WINDOWED_MAX_FRAMES)))
    problems = []
    if mode not in MODES:
        problems.append(f"mode {mode!r} (use {' or '.join(MODES)})")
    if weighting not in WEIGHTINGS:
        problems.append(f"weighting {weighting!r} (use {' or '.join(WEIGHTINGS)})")
    if stride is not None and (not _is_int(stride) or not 1 <= stride <= native):
        problems.append(f"stride {stride!r} (a whole number from 1 to {native})")
    if not _is_int(max_frames) or max_frames < native:
        problems.append(f"max_frames {max_frames!r} (a whole number of at least {native})")
    if problems:
        raise InvalidRequest([f"Model {info.key!r}: clipcast.json's \"windowing\" has a bad {', '.join(problems)}."])
    return WindowSettings(mode=mode, stride=stride, max_frames=int(max_frames), weighting=weighting)


def frame_limit(info: ModelInfo) -> int:
    """The longest clip the model renders: its native window, or more when the engine windows it."""
    settings = settings_for(info)
    return settings.max_frames if settings else info.defaults.max_frames


def plan_for(info: ModelInfo, num_frames: int) -> WindowPlan | None:
    """The plan for a request of `num_frames`, or None when one native window holds it."""
    settings = settings_for(info)
    native = info.defaults.max_frames
    if settings is None or num_frames <= native:
        return None
    if settings.mode == "mirror":
        return plan_mirror(num_frames, native)
    plan = plan_overlap(num_frames, native, settings.stride or max(1, native // 4), settings.weighting)
    if info.pipeline_class in DIFFUSERS_FREE_NOISE:
        return WindowPlan(**{**plan.__dict__, "implementation": "diffusers"})
    return plan


def plan_overlap(num_frames: int, native: int, stride: int, weighting: str = "pyramid") -> WindowPlan:
    """Windows of `native` frames every `stride` frames; the last is moved back to end at the clip's end."""
    length = min(native, num_frames)
    starts = list(range(0, num_frames - length + 1, stride))
    if starts[-1] + length < num_frames:
        starts.append(num_frames - length)
    windows = tuple(Window(tuple(range(s, s + length))) for s in starts)
    return WindowPlan("overlap", num_frames, num_frames, native, stride, windows, tuple(range(num_frames)), weighting)


def plan_mirror(num_frames: int, native: int) -> WindowPlan:
    """Windows that each render the same crossing, forwards and backwards in turn, as few as cover the clip and
    all of one length <= `native`.

    Where a window ends and the next one runs back, they share that frame (the end of the crossing, where the
    model slows into the frame's edge). Where they meet at their first frame, they share their second frame
    instead, and each keeps its first frame to itself as a lead-in that the clip does not show: the model's
    first step is its largest (3 px where the others are 1.65 px at 64x64), and a turn through it reads as a seam.
    """
    if num_frames <= native:
        return WindowPlan("mirror", num_frames, num_frames, native, native, (Window(tuple(range(num_frames))),),
                          tuple(range(num_frames)))
    count, length = _mirror_shape(num_frames, native)
    shown_total = length + (count - 1) * (length - 2)
    next_clip, next_lead_in = length, shown_total  # lead-in latents are numbered after every shown frame
    windows = [Window(tuple(range(length)))]
    last = length - 1  # the clip frame the next window shares
    for i in range(1, count):
        if i % 2:  # backwards: own frame L-1 is the shared one, own 0 the lead-in, own L-2 .. 1 new clip frames
            new = list(range(next_clip, next_clip + length - 2))  # clip order = own time L-2 .. 1
            own = [next_lead_in, *new[::-1], last]
            last = new[-1]
        else:  # forwards: own 0 the lead-in, own 1 the shared one, own 2 .. L-1 new clip frames
            new = list(range(next_clip, next_clip + length - 2))
            own = [next_lead_in, last, *new]
            last = new[-1]
        next_clip += length - 2
        next_lead_in += 1
        windows.append(Window(tuple(own)))
    return WindowPlan("mirror", num_frames, next_lead_in, native, length - 2, tuple(windows),
                      tuple(range(num_frames)))


def _mirror_shape(num_frames: int, native: int) -> tuple[int, int]:
    """The fewest windows, then the shortest length, whose mirror plan shows at least `num_frames` frames: the
    first window shows all of its frames, every later one two fewer (one shared, one lead-in)."""
    if native < 4:
        raise ValueError(f"A mirror plan needs windows of at least 4 frames; the model's is {native}.")
    count = 2
    while native + (count - 1) * (native - 2) < num_frames:
        count += 1
    length = next(n for n in range(4, native + 1) if n + (count - 1) * (n - 2) >= num_frames)
    return count, length


def fusion_weights(length: int, weighting: str = "pyramid") -> torch.Tensor:
    """Per-frame weight of one window's prediction: pyramid rises 1, 2, ... to the middle and falls back, so a
    frame is decided by the windows that see it most centrally (FreeNoise's fusion); flat weighs all alike."""
    if weighting == "flat":
        return torch.ones(length)
    if weighting != "pyramid":
        raise ValueError(f"Unknown weighting {weighting!r}: use pyramid or flat.")
    ramp = torch.arange(1, length + 1, dtype=torch.float32)
    return torch.minimum(ramp, ramp.flip(0))


def initial_noise(plan: WindowPlan, base: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The clip's initial noise (B, C, rendered_frames, H, W) from the first window's noise `base`
    (B, C, first window's length, H, W). Mirror plan: every window starts from `base` in its own time (a frame two
    windows share has the same own-time index in both). Overlap plan: every new block of `stride` frames is a
    seeded shuffle of the `native` frames before it (FreeNoise's noise rescheduling)."""
    frames = plan.rendered_frames
    noise = torch.empty((*base.shape[:2], frames, *base.shape[3:]), dtype=base.dtype, device=base.device)
    if plan.mode == "mirror":
        for window in plan.windows:
            noise[:, :, list(window.frames)] = base[:, :, : window.length]
        return noise
    first = min(plan.native, frames)
    noise[:, :, :first] = base[:, :, :first]
    for start in range(first, frames, plan.stride):
        before = torch.arange(start - plan.native, start)
        shuffled = before[torch.randperm(plan.native, generator=generator)]
        stop = min(start + plan.stride, frames)
        noise[:, :, start:stop] = noise[:, :, shuffled[: stop - start]]
    return noise


def fuse(plan: WindowPlan, sample: torch.Tensor, predict: Callable[[torch.Tensor, Window], torch.Tensor],
         on_window: WindowFn | None = None) -> torch.Tensor:
    """Run `predict` on each window's frames of `sample` (frames on axis 2, in the window's own order) and average
    the predictions frame by frame with the fusion weights."""
    total = torch.zeros_like(sample, dtype=torch.float32)
    weight = torch.zeros(sample.shape[2], dtype=torch.float32, device=sample.device)
    for i, window in enumerate(plan.windows):
        index = torch.tensor(window.frames, device=sample.device)
        out = predict(sample.index_select(2, index), window)
        w = fusion_weights(window.length, plan.weighting).to(sample.device)
        total.index_add_(2, index, out.float() * w.view(1, 1, -1, 1, 1))
        weight.index_add_(0, index, w)
        if on_window is not None:
            on_window(i + 1, len(plan.windows))
    return (total / weight.view(1, 1, -1, 1, 1)).to(sample.dtype)


def fuse_stacked(plan: WindowPlan, sample: torch.Tensor, predict_all: Callable[[torch.Tensor], torch.Tensor]
                 ) -> torch.Tensor:
    """`fuse` with every window in ONE denoiser call, stacked window-major on the batch axis (the windows must be of
    one length): the same result, with the denoiser's per-call overhead paid once a step instead of per window."""
    index = torch.tensor([f for w in plan.windows for f in w.frames], device=sample.device)
    batch, count, length = sample.shape[0], len(plan.windows), plan.windows[0].length
    parts = sample.index_select(2, index).unflatten(2, (count, length)).movedim(2, 0).flatten(0, 1)
    out = predict_all(parts)  # (count * batch, C, length, H, W)
    out = out.unflatten(0, (count, batch)).movedim(0, 2).flatten(2, 3)  # (batch, C, count * length, H, W)
    w = torch.cat([fusion_weights(win.length, plan.weighting) for win in plan.windows]).to(sample.device)
    total = torch.zeros_like(sample, dtype=torch.float32).index_add_(2, index, out.float() * w.view(1, 1, -1, 1, 1))
    weight = torch.zeros(sample.shape[2], dtype=torch.float32, device=sample.device).index_add_(0, index, w)
    return (total / weight.view(1, 1, -1, 1, 1)).to(sample.dtype)


@contextmanager
def windowed_denoiser(denoiser: torch.nn.Module, plan: WindowPlan, on_window: WindowFn | None = None) -> Iterator[None]:
    """Within the block, every call of `denoiser` (the pipeline's UNet) sees the clip through the plan's windows:
    all of them in one call, stacked on the batch axis, when they are of one length, else one call each. (The
    bundled model's 10-second render, stacked and with `chunked_decoder`: 6.8 s against 9.7 s one window a call.)"""
    own = denoiser.__dict__.get("forward")  # e.g. an offload hook's wrapper: put back as it was
    original = denoiser.forward
    stacked = len({w.length for w in plan.windows}) == 1

    def forward(sample: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        holder: list[Any] = []
        batch, frames = sample.shape[0], sample.shape[2]

        def call(part: torch.Tensor, call_args: tuple, call_kwargs: dict[str, Any]) -> torch.Tensor:
            result = original(part, *call_args, **call_kwargs)
            holder[:] = [result]
            return result[0] if isinstance(result, tuple) else result.sample

        if stacked:
            stacked_args = tuple(_stack(a, batch, frames, plan.windows) for a in args)
            stacked_kwargs = {k: _stack(v, batch, frames, plan.windows) for k, v in kwargs.items()}
            fused = fuse_stacked(plan, sample, lambda parts: call(parts, stacked_args, stacked_kwargs))
        else:
            fused = fuse(plan, sample, lambda part, window: call(
                part, args, {k: _frames_of(v, batch, frames, window) for k, v in kwargs.items()}), on_window)
        result = holder[0]
        if isinstance(result, tuple):
            return (fused, *result[1:])
        return type(result)(sample=fused)

    denoiser.forward = forward  # type: ignore[method-assign]
    try:
        yield
    finally:
        if own is None:
            del denoiser.forward  # the class's forward shows through again
        else:
            denoiser.forward = own


@contextmanager
def chunked_decoder(vae: torch.nn.Module, chunk: int) -> Iterator[None]:
    """Within the block, the VAE decodes at most `chunk` frames per call: decoding 85 frames of the bundled model
    at once took 1.0 s where 24 took 0.15 s (the pipeline hands the decoder every frame of the clip together)."""
    own = vae.__dict__.get("decode")
    original = vae.decode

    def decode(z: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        if z.shape[0] <= chunk:
            return original(z, *args, **kwargs)
        parts = [original(z[i:i + chunk], *args, **kwargs) for i in range(0, z.shape[0], chunk)]
        if isinstance(parts[0], tuple):
            return (torch.cat([p[0] for p in parts]), *parts[0][1:])
        return type(parts[0])(sample=torch.cat([p.sample for p in parts]))

    vae.decode = decode  # type: ignore[method-assign]
    try:
        yield
    finally:
        if own is None:
            del vae.decode
        else:
            vae.decode = own


@contextmanager
def prepared_call(
    pipe: Any, plan: WindowPlan | None, kwargs: dict[str, Any], generators: list[torch.Generator],
    on_window: WindowFn | None = None,
) -> Iterator[None]:
    """Set up the pipeline call in `kwargs` for `plan` (num_frames, initial noise) and window the denoiser for the
    duration of the block. Nothing changes when `plan` is None."""
    if plan is None:
        yield
        return
    if plan.implementation == "diffusers":
        pipe.enable_free_noise(
            context_length=plan.native, context_stride=plan.stride, weighting_scheme=plan.weighting,
            noise_type="shuffle_context",
        )
        try:
            yield
        finally:
            pipe.disable_free_noise()
        return
    kwargs["num_frames"] = plan.rendered_frames
    kwargs["latents"] = torch.cat([_noise_for(pipe, plan, kwargs, g) for g in generators])
    vae = getattr(pipe, "vae", None)
    with windowed_denoiser(pipe.unet, plan, on_window), (
        chunked_decoder(vae, plan.native) if vae is not None else nullcontext()
    ):
        yield


def _frames_of(value: Any, batch: int, frames: int, window: Window) -> Any:
    """A per-frame conditioning input (first axis batch x frames, as AnimateDiff-SDXL repeats its prompt
    embeddings) cut to the window's frames; anything else as it is."""
    if isinstance(value, dict):
        return {k: _frames_of(v, batch, frames, window) for k, v in value.items()}
    if not isinstance(value, torch.Tensor) or value.ndim == 0 or value.shape[0] != batch * frames or frames == 1:
        return value
    per_frame = value.reshape(batch, frames, *value.shape[1:])[:, list(window.frames)]
    return per_frame.reshape(batch * window.length, *value.shape[1:])


def _stack(value: Any, batch: int, frames: int, windows: tuple[Window, ...]) -> Any:
    """A conditioning input for all windows stacked window-major on the batch axis: per-frame inputs (first axis
    batch x frames) cut to each window's frames, per-clip inputs (first axis batch) repeated once per window."""
    if isinstance(value, dict):
        return {k: _stack(v, batch, frames, windows) for k, v in value.items()}
    if not isinstance(value, torch.Tensor) or value.ndim == 0:
        return value
    if value.shape[0] == batch * frames and frames > 1:
        return torch.cat([_frames_of(value, batch, frames, w) for w in windows])
    if value.shape[0] == batch:
        return torch.cat([value] * len(windows))
    return value


def _noise_for(pipe: Any, plan: WindowPlan, kwargs: Mapping[str, Any], generator: torch.Generator) -> torch.Tensor:
    factor = int(getattr(pipe, "vae_scale_factor", 8))
    channels = int(pipe.unet.config.in_channels)
    first = plan.windows[0].length
    shape = (1, channels, first, int(kwargs["height"]) // factor, int(kwargs["width"]) // factor)
    base = torch.randn(shape, generator=generator, dtype=torch.float32)
    return initial_noise(plan, base, generator)


def _clipcast_section(info: ModelInfo) -> dict[str, Any]:
    import json

    path = info.path / "clipcast.json"
    try:
        data = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        return {}  # the registry already refuses an unreadable clipcast.json when it reads the folder
    section = data.get("windowing", {}) if isinstance(data, dict) else {}
    return section if isinstance(section, dict) else {}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
