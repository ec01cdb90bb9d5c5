"""Rendering prompts through a diffusers pipeline and scoring the frames with the analyser."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from training.analyser import analyse
from training.data import HELD_OUT_PAIRS, MOTIONS, SHAPES, ClipSpec

SLOTS = ("colour", "shape", "motion", "background")


def render(
    pipe: object,
    prompts: Sequence[str],
    seeds: Sequence[int],
    num_frames: int,
    guidance_scale: float,
    steps: int = 20,
    batch: int = 8,
) -> np.ndarray:
    """Frames (len(prompts), num_frames, H, W, 3) in 0..1, rendered `batch` prompts per pipeline call."""
    out = []
    for i in range(0, len(prompts), batch):
        chunk = list(prompts[i : i + batch])
        generators = [torch.Generator().manual_seed(int(s)) for s in seeds[i : i + batch]]
        frames = pipe(  # type: ignore[operator]
            prompt=chunk,
            num_frames=num_frames,
            num_inference_steps=steps,
            guidance_scale=guidance_scale,
            generator=generators if len(chunk) > 1 else generators[0],
            output_type="np",
        ).frames
        out.append(np.asarray(frames))
    return np.concatenate(out)


@dataclass
class Score:
    total: int = 0
    slots: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SLOTS, 0))
    joint: int = 0
    failures: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)

    def add(self, spec: ClipSpec, frames: np.ndarray) -> None:
        reading = analyse(frames).as_dict()
        expected = {"colour": spec.colour, "shape": spec.shape, "motion": spec.motion, "background": spec.background}
        self.total += 1
        ok = True
        for slot in SLOTS:
            if reading[slot] == expected[slot]:
                self.slots[slot] += 1
            else:
                ok = False
        if ok:
            self.joint += 1
        else:
            self.failures.append((spec.canonical, reading))

    def rates(self) -> dict[str, float]:
        n = max(self.total, 1)
        return {**{s: self.slots[s] / n for s in SLOTS}, "joint": self.joint / n}


def score_pipeline(
    pipe: object,
    specs: Sequence[ClipSpec],
    num_frames: int,
    guidance_scale: float,
    seed: int = 0,
    batch: int = 8,
) -> tuple[Score, float]:
    """Score and seconds per clip (batched rendering, so lower than a single-clip render)."""
    start = time.perf_counter()
    prompts = [s.canonical for s in specs]
    seeds = [seed + i for i in range(len(specs))]
    frames = render(pipe, prompts, seeds, num_frames, guidance_scale, batch=batch)
    elapsed = (time.perf_counter() - start) / max(len(specs), 1)
    score = Score()
    for spec, clip in zip(specs, frames, strict=True):
        score.add(spec, clip)
    return score, elapsed


def quick_held_out(count: int = 24) -> list[ClipSpec]:
    """A fixed, balanced subset of the held-out prompts: every pair, every shape, every motion."""
    pairs = sorted(HELD_OUT_PAIRS)
    specs = []
    for i in range(count):
        c, b = pairs[i % len(pairs)]
        specs.append(ClipSpec(colour=c, shape=SHAPES[i % 3], motion=MOTIONS[(i // 3 + i) % 6], background=b))
    return specs
