"""Reads a rendered clip and infers its colour, shape, motion and background, with no access to the prompt."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.data import COLOUR_NAMES, COLOURS

_PALETTE = np.array([COLOURS[n] for n in COLOUR_NAMES], dtype=np.float64) / 255.0
# Named colours are at least 1.0 apart (unit RGB cube), so half of that separates shape from background.
_FOREGROUND_DISTANCE = 0.5
_MIN_SHAPE_PIXELS = 12


@dataclass(frozen=True)
class Reading:
    colour: str | None
    shape: str | None
    motion: str | None
    background: str

    def as_dict(self) -> dict[str, str | None]:
        return {"colour": self.colour, "shape": self.shape, "motion": self.motion, "background": self.background}


def to_unit_float(frames: np.ndarray) -> np.ndarray:
    """uint8 (0..255) or float (0..1) frames (N, H, W, 3) as float64 in 0..1."""
    frames = np.asarray(frames)
    if frames.dtype == np.uint8:
        return frames.astype(np.float64) / 255.0
    return np.clip(frames.astype(np.float64), 0.0, 1.0)


def nearest_colour(rgb: np.ndarray) -> np.ndarray:
    """Index of the nearest named colour for each RGB row (unit floats)."""
    d = ((rgb[..., None, :] - _PALETTE) ** 2).sum(-1)
    return d.argmin(-1)


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 4-connected component of a boolean mask (model renders may have stray pixels)."""
    h, w = mask.shape
    labels = np.zeros((h, w), dtype=np.int32)
    best, best_size, current = 0, 0, 0
    for y0, x0 in zip(*np.nonzero(mask), strict=True):
        if labels[y0, x0]:
            continue
        current += 1
        stack = [(y0, x0)]
        labels[y0, x0] = current
        size = 0
        while stack:
            y, x = stack.pop()
            size += 1
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not labels[ny, nx]:
                    labels[ny, nx] = current
                    stack.append((ny, nx))
        if size > best_size:
            best, best_size = current, size
    return labels == best if best else np.zeros_like(mask)


def classify_shape(mask: np.ndarray) -> str | None:
    """Circle, square or triangle from the fill ratio of the mask in its bounding box, and its corners."""
    ys, xs = np.nonzero(mask)
    if len(ys) < _MIN_SHAPE_PIXELS:
        return None
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    box = mask[y0:y1, x0:x1].astype(np.float64)
    fill = box.mean()
    bh, bw = box.shape
    ch, cw = max(1, bh // 4), max(1, bw // 4)
    top = (box[:ch, :cw].mean() + box[:ch, -cw:].mean()) / 2
    bottom = (box[-ch:, :cw].mean() + box[-ch:, -cw:].mean()) / 2
    if fill > 0.88 or (top > 0.6 and bottom > 0.6):
        return "square"
    if fill < 0.64 or bottom - top > 0.3:
        return "triangle"
    return "circle"


def classify_motion(centres: np.ndarray, sides: np.ndarray) -> str | None:
    """Motion from the fitted per-frame change of the centroid and of sqrt(area), over the whole clip."""
    n = len(centres)
    if n < 2:
        return None
    t = np.arange(n, dtype=np.float64)
    span = n - 1
    dx = np.polyfit(t, centres[:, 0], 1)[0] * span
    dy = np.polyfit(t, centres[:, 1], 1)[0] * span
    ds = np.polyfit(t, sides, 1)[0] * span
    move = max(abs(dx), abs(dy))
    if max(move, abs(ds)) < 2.0:
        return None  # static
    if abs(ds) > move:
        return "growing" if ds > 0 else "shrinking"
    if abs(dx) >= abs(dy):
        return "moving right" if dx > 0 else "moving left"
    return "moving down" if dy > 0 else "moving up"


def analyse(frames: np.ndarray) -> Reading:
    """Infer colour, shape, motion and background of a clip (N, H, W, 3), uint8 or float in 0..1."""
    f = to_unit_float(frames)
    n = f.shape[0]
    border = np.concatenate(
        [f[:, :2].reshape(-1, 3), f[:, -2:].reshape(-1, 3), f[:, :, :2].reshape(-1, 3), f[:, :, -2:].reshape(-1, 3)]
    )
    bg_index = int(np.bincount(nearest_colour(border), minlength=len(COLOUR_NAMES)).argmax())
    background = COLOUR_NAMES[bg_index]
    bg_rgb = _PALETTE[bg_index]

    distance = np.sqrt(((f - bg_rgb) ** 2).sum(-1))
    masks = distance > _FOREGROUND_DISTANCE
    counts = masks.reshape(n, -1).sum(1)
    if counts.max() < _MIN_SHAPE_PIXELS:
        return Reading(colour=None, shape=None, motion=None, background=background)

    colour_index = int(nearest_colour(f[masks].mean(0)))
    colour = COLOUR_NAMES[colour_index]

    biggest = int(counts.argmax())
    shape = classify_shape(_largest_component(masks[biggest]))

    centres, sides = _track(masks)
    motion = classify_motion(centres, sides)
    return Reading(colour=colour, shape=shape, motion=motion, background=background)


def _track(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame centroid (x, y) and sqrt(area) of the foreground masks (N, H, W)."""
    n, h, w = masks.shape
    centres = np.zeros((n, 2))
    sides = np.zeros(n)
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        m = masks[i]
        if m.sum() == 0:
            centres[i] = centres[i - 1] if i else (w / 2, h / 2)
            continue
        centres[i] = (xx[m].mean(), yy[m].mean())
        sides[i] = np.sqrt(m.sum())
    return centres, sides


def track(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The shape's per-frame centroid (x, y) and sqrt(area) in pixels, against the clip's dominant border colour."""
    f = to_unit_float(frames)
    border = np.concatenate(
        [f[:, :2].reshape(-1, 3), f[:, -2:].reshape(-1, 3), f[:, :, :2].reshape(-1, 3), f[:, :, -2:].reshape(-1, 3)]
    )
    bg_rgb = _PALETTE[int(np.bincount(nearest_colour(border), minlength=len(COLOUR_NAMES)).argmax())]
    return _track(np.sqrt(((f - bg_rgb) ** 2).sum(-1)) > _FOREGROUND_DISTANCE)
