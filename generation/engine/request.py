"""What to render, and the checks that run before any weights are touched.

`validate(request, info)` needs only `ModelInfo` (configs, no weights), so the web side can call it when a
clip is submitted and the worker can call it again against the model it actually loaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from generation.engine.errors import InvalidRequest
from generation.engine.lora import LoraWeights, weight_problems
from generation.engine.registry import ModelInfo
from generation.engine.windowing import frame_limit

MIN_STEPS, MAX_STEPS = 1, 150
MIN_GUIDANCE, MAX_GUIDANCE = 0.0, 50.0
MAX_FPS = 60  # X's limit
MIN_DURATION_S, MAX_DURATION_S = 0.5, 140.0  # X's limits for a post's video
MAX_RENDER_SIDE = 4096
# X: 32x32 up to 1280x1024. X's own recommended 720x1280 portrait exceeds 1024 in height, so the bounds are
# read orientation-free: the long side at most 1280, the short side at most 1024.
MIN_OUTPUT_SIDE, MAX_OUTPUT_LONG, MAX_OUTPUT_SHORT = 32, 1280, 1024
MAX_ASPECT = 3.0
MAX_SEED = 2**63 - 1

# The glue stores render settings under these names (generation.services.RENDER_PARAM_KEYS).
PARAM_NAMES = {
    "model_key": "model", "frames": "num_frames", "fps": "fps", "width": "width", "height": "height",
    "output_width": "output_width", "output_height": "output_height", "steps": "steps", "guidance": "guidance_scale",
}


@dataclass(frozen=True)
class RenderRequest:
    """One clip. `None` means "the model's default" (from its clipcast.json or the pipeline's own defaults).

    `width`/`height` are the size the pipeline renders at (multiples of the model's factor); `output_width`/
    `output_height` the size of the exported video, reached by upscaling (default: the render size, scaled by a
    whole factor if a side is under X's 32 px minimum).
    """

    prompt: str
    seed: int
    negative_prompt: str = ""
    num_frames: int | None = None
    fps: int | None = None
    width: int | None = None
    height: int | None = None
    output_width: int | None = None
    output_height: int | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    model: str | None = None
    # Set by `validate` when the asked-for frame count was not one the model can render (e.g. 8 for a 4k + 1
    # family): what was asked for, while `num_frames` holds what is rendered.
    frames_requested: int | None = None
    # LoRAs to apply, in order (none: the base model alone). Not a render_params key: the glue adds them.
    loras: tuple[LoraWeights, ...] = ()

    @classmethod
    def from_params(
        cls, prompt: str, seed: int, params: Mapping[str, Any] | None = None, negative_prompt: str = ""
    ) -> RenderRequest:
        """Build from the glue's `render_params` dict (keys: model_key, frames, fps, width, height, output_width,
        output_height, steps, guidance). Unknown keys are an error, not silently dropped."""
        params = dict(params or {})
        unknown = sorted(set(params) - set(PARAM_NAMES))
        if unknown:
            raise InvalidRequest([f"Unknown render setting(s) {', '.join(unknown)}: use {', '.join(PARAM_NAMES)}."])
        values = {PARAM_NAMES[k]: v for k, v in params.items() if v is not None}
        return cls(prompt=prompt, seed=seed, negative_prompt=negative_prompt or "", **values)

    def with_defaults(self, info: ModelInfo) -> RenderRequest:
        d = info.defaults
        width, height = self.width or d.width, self.height or d.height
        return replace(
            self,
            num_frames=self.num_frames if self.num_frames is not None else d.num_frames,
            fps=self.fps if self.fps is not None else d.fps,
            width=width,
            height=height,
            output_width=self.output_width or _default_output(width, height)[0],
            output_height=self.output_height or _default_output(width, height)[1],
            steps=self.steps if self.steps is not None else d.num_inference_steps,
            guidance_scale=self.guidance_scale if self.guidance_scale is not None else d.guidance_scale,
            model=self.model or info.key,
        )

    def as_params(self) -> dict[str, Any]:
        params = {f.name: getattr(self, f.name) for f in fields(self)}
        params["loras"] = [lora.record() for lora in self.loras]
        return params

    @property
    def duration_s(self) -> float:
        return (self.num_frames or 0) / (self.fps or 1)

    def frames_note(self, frame_step: int | None = None) -> str | None:
        """One sentence saying the frame count was adjusted, or None when it was rendered as asked."""
        if self.frames_requested is None or self.frames_requested == self.num_frames:
            return None
        step = f" (it renders {frame_step}k + 1 frames)" if frame_step and frame_step > 1 else ""
        return (
            f"{self.frames_requested} frames were asked for; this model cannot render that many{step}, so it "
            f"rendered the nearest valid count, {self.num_frames} ({self.duration_s:.2f} s at {self.fps} fps)."
        )


def nearest_frames(requested: int, step: int, limit: int) -> int:
    """The frame count nearest `requested` of the form step*k + 1 within 1..limit (a tie goes to the longer)."""
    if step <= 1:
        return requested
    lower = (requested - 1) // step * step + 1
    upper = lower + step
    if upper > limit:
        return lower
    return upper if upper - requested <= requested - lower else lower


def _default_output(width: int | None, height: int | None) -> tuple[int | None, int | None]:
    """The render size, upscaled by a whole factor when a side is under X's 32 px minimum (stays crisp)."""
    if not _is_int(width) or not _is_int(height) or width <= 0 or height <= 0:
        return width, height
    k = max(1, math.ceil(MIN_OUTPUT_SIDE / min(width, height)))
    return width * k + (width * k) % 2, height * k + (height * k) % 2


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate(request: RenderRequest, info: ModelInfo) -> RenderRequest:
    """Fill the model's defaults and check everything; returns the resolved request or raises `InvalidRequest`
    listing every problem (so a user fixes them in one go)."""
    r = request.with_defaults(info)
    problems: list[str] = []

    if not isinstance(r.prompt, str) or not r.prompt.strip():
        problems.append("The prompt is empty: describe the clip to render.")
    if not isinstance(r.negative_prompt, str):
        problems.append("The negative prompt must be text.")
    if not _is_int(r.seed) or not 0 <= r.seed <= MAX_SEED:
        problems.append(f"Seed must be a whole number from 0 to 2^63-1; got {r.seed!r}.")

    limit = frame_limit(info)
    if not _is_int(r.num_frames) or not 1 <= r.num_frames <= limit:
        problems.append(f"Frames must be a whole number from 1 to {limit} (this model's limit); got {r.num_frames!r}.")
    elif info.frame_step > 1 and (r.num_frames - 1) % info.frame_step:
        # Duration is the marketer's choice; the family's frame granularity is ours to meet, not a refusal.
        r = replace(
            r, num_frames=nearest_frames(r.num_frames, info.frame_step, limit),
            frames_requested=r.frames_requested if r.frames_requested is not None else r.num_frames,
        )
    if not _is_int(r.fps) or not 1 <= r.fps <= MAX_FPS:
        problems.append(f"Frames per second must be from 1 to {MAX_FPS} (X's limit); got {r.fps!r}.")
    elif _is_int(r.num_frames) and r.num_frames >= 1 and not MIN_DURATION_S <= r.duration_s <= MAX_DURATION_S:
        problems.append(
            f"The clip would last {r.duration_s:.2f} s ({r.num_frames} frames at {r.fps} fps); X accepts "
            f"{MIN_DURATION_S:g} to {MAX_DURATION_S:g} s: change frames or fps."
        )

    factor = info.size_factor
    for name in ("width", "height"):
        value = getattr(r, name)
        if value is None:
            problems.append(f"Give a {name}: this model declares no default size.")
        elif not _is_int(value) or not factor <= value <= MAX_RENDER_SIDE or value % factor:
            problems.append(
                f"{name.capitalize()} must be a multiple of {factor} (this model's size factor) from {factor} to "
                f"{MAX_RENDER_SIDE}; got {value!r}."
            )
    problems.extend(_output_size_problems(r.output_width, r.output_height))

    if not _is_int(r.steps) or not MIN_STEPS <= r.steps <= MAX_STEPS:
        problems.append(f"Steps must be a whole number from {MIN_STEPS} to {MAX_STEPS}; got {r.steps!r}.")
    if not _is_number(r.guidance_scale) or not MIN_GUIDANCE <= r.guidance_scale <= MAX_GUIDANCE:
        problems.append(
            f"Guidance must be a number from {MIN_GUIDANCE:g} to {MAX_GUIDANCE:g}; got {r.guidance_scale!r}."
        )

    problems.extend(weight_problems(r.loras))

    if problems:
        raise InvalidRequest(problems)
    return r


def _output_size_problems(width: object, height: object) -> list[str]:
    if width is None or height is None:
        return []  # already reported as a missing render size
    if not _is_int(width) or not _is_int(height):
        return [f"Output size must be whole numbers; got {width!r}x{height!r}."]
    problems = []
    if width % 2 or height % 2:
        problems.append(f"Output size {width}x{height} must have even sides (H.264 yuv420p): use an even number.")
    long, short = max(width, height), min(width, height)
    if short < MIN_OUTPUT_SIDE or long > MAX_OUTPUT_LONG or short > MAX_OUTPUT_SHORT:
        problems.append(
            f"Output size {width}x{height} is outside X's limits ({MIN_OUTPUT_SIDE}x{MIN_OUTPUT_SIDE} to "
            f"{MAX_OUTPUT_LONG}x{MAX_OUTPUT_SHORT}, either orientation): try 720x720, 1280x720 or 720x1280."
        )
    elif long / short > MAX_ASPECT:
        problems.append(f"Output size {width}x{height} is wider than X's 3:1 aspect limit.")
    return problems
