"""Judging a long clip (longer than the model's 3-second window) with the analyser, window by window.

A long clip is right when, in every 3-second window of it, the analyser reads the prompt's colour, shape and
background, and the shape moves along the prompt's axis (horizontal for left/right, vertical for up/down, size for
growing/shrinking): over 10 s a moving shape bounces at the frame's edge, so a window that holds a bounce moves
both ways along its axis, and its direction is not the prompt's. And no seam: where two generation windows meet,
the largest frame-to-frame change is at most 1.5x the median change inside the windows around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from training.analyser import analyse, track

AXES = {
    "moving left": "horizontal", "moving right": "horizontal", "moving up": "vertical", "moving down": "vertical",
    "growing": "size", "shrinking": "size",
}
SEAM_LIMIT = 1.5
MIN_TRAVEL_PX = 2.0  # the analyser's own threshold between static and moving


def eval_windows(num_frames: int, window: int = 24) -> list[tuple[int, int]]:
    """Consecutive `window`-frame spans from the start; a shorter remainder is judged as the last full window
    (aligned to the end), so every frame is judged in a window of the full length."""
    if num_frames <= window:
        return [(0, num_frames)]
    spans = [(s, s + window) for s in range(0, num_frames - window + 1, window)]
    if spans[-1][1] < num_frames:
        spans.append((num_frames - window, num_frames))
    return spans


def motion_axis(frames: np.ndarray) -> str | None:
    """Along which axis the shape travels most in these frames (peak-to-peak of its centroid x, y and its side);
    None when it travels less than the analyser's 2 px."""
    centres, sides = track(frames)
    travel = {"horizontal": np.ptp(centres[:, 0]), "vertical": np.ptp(centres[:, 1]), "size": np.ptp(sides)}
    axis = max(travel, key=travel.get)
    return axis if travel[axis] >= MIN_TRAVEL_PX else None


def frame_changes(frames: np.ndarray) -> np.ndarray:
    """Mean absolute pixel change (0-255) from each frame to the next: (N - 1,)."""
    f = np.asarray(frames, dtype=np.float64)
    return np.abs(np.diff(f, axis=0)).mean(axis=(1, 2, 3))


def seam_ratio(frames: np.ndarray, boundaries: Sequence[int], reach: int = 6) -> float | None:
    """The largest change into or out of a generation-window boundary frame over the median change of the
    transitions inside the windows around it (`reach` on each side); None without boundaries. The median is
    local because the change grows with the shape's size (a growing shape turns back at its largest) and a shape
    that moves 1.65 px a frame is drawn 1 or 2 px further each frame: a clip-wide median calls a perfect
    ground-truth bounce of a growing shape a seam (2.1x)."""
    changes = frame_changes(frames)
    at = sorted({i for b in boundaries for i in (b - 1, b) if 0 <= i < len(changes)})
    if not at:
        return None
    worst = 0.0
    for b in boundaries:
        edges = [i for i in (b - 1, b) if 0 <= i < len(changes)]
        if not edges:
            continue
        near = [i for i in range(b - 1 - reach, b + 1 + reach) if 0 <= i < len(changes) and i not in at]
        median = float(np.median(changes[near])) if near else float(np.median(changes))
        worst = max(worst, float(changes[edges].max()) / max(median, 1e-6))
    return worst


@dataclass
class LongClipJudgement:
    windows: list[dict] = field(default_factory=list)  # per window: span, reading, axis, and which slots are right
    seam: float | None = None

    @property
    def every_window_right(self) -> bool:
        return all(w["right"] for w in self.windows)

    @property
    def seamless(self) -> bool:
        return self.seam is None or self.seam <= SEAM_LIMIT

    @property
    def right(self) -> bool:
        return self.every_window_right and self.seamless

    def as_dict(self) -> dict:
        return {"right": self.right, "every_window_right": self.every_window_right, "seam": self.seam,
                "seamless": self.seamless, "windows": self.windows}


def judge(
    frames: np.ndarray, colour: str, shape: str, motion: str, background: str, boundaries: Sequence[int] = (),
    window: int = 24,
) -> LongClipJudgement:
    """Judge a long clip of the prompt `a {colour} {shape} {motion} on a {background} background`."""
    judgement = LongClipJudgement(seam=seam_ratio(frames, boundaries))
    for start, stop in eval_windows(len(frames), window):
        part = frames[start:stop]
        reading = analyse(part)
        axis = motion_axis(part)
        slots = {
            "colour": reading.colour == colour, "shape": reading.shape == shape,
            "background": reading.background == background, "axis": axis == AXES[motion],
        }
        judgement.windows.append({
            "span": [start, stop], "reading": reading.as_dict(), "axis": axis, "slots": slots,
            "right": all(slots.values()),
        })
    return judgement
