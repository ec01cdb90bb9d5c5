"""Synthetic "shapes" clips, their captions, and the held-out split (generation/bundled/MODEL_CARD.md describes both).

A clip is one shape (circle, square, triangle) in one colour moving steadily over a plain background.
Every clip follows a 24-frame trajectory law; an N-frame clip is the first N frames of that law, so the
per-frame speed is the same at 8 and at 24 frames and a model trained on one length agrees with the other.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

SIZE = 64
FPS = 8
MAX_FRAMES = 24
MARGIN = 2.0

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (255, 0, 0),
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "cyan": (0, 255, 255),
    "magenta": (255, 0, 255),
    "white": (255, 255, 255),
    "black": (0, 0, 0),
}
COLOUR_NAMES: tuple[str, ...] = tuple(COLOURS)
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
MOTIONS: tuple[str, ...] = ("moving left", "moving right", "moving up", "moving down", "growing", "shrinking")

# (colour, background) pairs no training clip may contain, in any shape or motion.
HELD_OUT_PAIRS: frozenset[tuple[str, str]] = frozenset(
    {
        ("red", "white"),
        ("blue", "yellow"),
        ("green", "black"),
        ("magenta", "cyan"),
        ("white", "blue"),
        ("yellow", "red"),
    }
)

ALL_PAIRS: tuple[tuple[str, str], ...] = tuple(
    (c, b) for c, b in itertools.product(COLOUR_NAMES, COLOUR_NAMES) if c != b
)
TRAIN_PAIRS: tuple[tuple[str, str], ...] = tuple(p for p in ALL_PAIRS if p not in HELD_OUT_PAIRS)

# Moving shapes keep one size; growing/shrinking go between these sizes around a fixed centre.
# Large enough that an 8x-downsampling autoencoder keeps the corners that tell circle, square and triangle apart.
MOVE_SIZE = (20.0, 26.0)
GROW_SIZES = (14.0, 44.0)


@dataclass(frozen=True)
class ClipSpec:
    colour: str
    shape: str
    motion: str
    background: str
    size: float = 23.0  # bounding-box side for moving shapes
    offset: float = 0.5  # position across the direction of travel (or of the centre), 0..1

    @property
    def canonical(self) -> str:
        return canonical_prompt(self.colour, self.shape, self.motion, self.background)


def canonical_prompt(colour: str, shape: str, motion: str, background: str) -> str:
    return f"a {colour} {shape} {motion} on a {background} background"


def is_held_out(colour: str, background: str) -> bool:
    return (colour, background) in HELD_OUT_PAIRS


# ---------------------------------------------------------------- trajectories and rendering


def trajectory(spec: ClipSpec, num_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre x, centre y and bounding-box side per frame (pixels), for the first `num_frames` frames."""
    t = np.arange(num_frames, dtype=np.float64) / (MAX_FRAMES - 1)
    if spec.motion in ("growing", "shrinking"):
        small, big = GROW_SIZES
        sizes = small + (big - small) * t if spec.motion == "growing" else big - (big - small) * t
        lo, hi = MARGIN + big / 2, SIZE - MARGIN - big / 2
        cx = np.full(num_frames, lo + (hi - lo) * spec.offset)
        cy = np.full(num_frames, lo + (hi - lo) * (1 - spec.offset))
        return cx, cy, sizes
    s = spec.size
    lo, hi = MARGIN + s / 2, SIZE - MARGIN - s / 2
    across = np.full(num_frames, lo + (hi - lo) * spec.offset)
    forward = lo + (hi - lo) * t  # left-to-right or top-to-bottom
    backward = hi - (hi - lo) * t
    sizes = np.full(num_frames, s)
    if spec.motion == "moving right":
        return forward, across, sizes
    if spec.motion == "moving left":
        return backward, across, sizes
    if spec.motion == "moving down":
        return across, forward, sizes
    return across, backward, sizes  # moving up


_YY, _XX = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) + 0.5


def shape_mask(shape: str, cx: float, cy: float, side: float) -> np.ndarray:
    """Boolean mask of a shape whose bounding box is `side` wide, centred on (cx, cy)."""
    h = side / 2
    if shape == "circle":
        return (_XX - cx) ** 2 + (_YY - cy) ** 2 <= h * h
    if shape == "square":
        return (np.abs(_XX - cx) <= h) & (np.abs(_YY - cy) <= h)
    if shape == "triangle":  # apex up, base down
        rel_y = (_YY - (cy - h)) / side  # 0 at the apex, 1 at the base
        return (rel_y >= 0) & (rel_y <= 1) & (np.abs(_XX - cx) <= h * rel_y)
    raise ValueError(f"Unknown shape {shape!r}: use one of {', '.join(SHAPES)}")


def render_clip(spec: ClipSpec, num_frames: int = 8) -> np.ndarray:
    """Frames as uint8 array (num_frames, 64, 64, 3)."""
    cx, cy, sizes = trajectory(spec, num_frames)
    frames = np.empty((num_frames, SIZE, SIZE, 3), dtype=np.uint8)
    bg = np.array(COLOURS[spec.background], dtype=np.uint8)
    fg = np.array(COLOURS[spec.colour], dtype=np.uint8)
    for i in range(num_frames):
        frames[i] = bg
        frames[i][shape_mask(spec.shape, cx[i], cy[i], sizes[i])] = fg
    return frames


# ---------------------------------------------------------------- captions

_MOTION_WORDS: dict[str, tuple[tuple[str, ...], ...]] = {
    # (present participle phrases, third-person phrases)
    "moving left": (
        ("moving left", "sliding left", "going left", "drifting to the left"),
        ("moves left", "slides left"),
    ),
    "moving right": (
        ("moving right", "sliding right", "going right", "drifting to the right"),
        ("moves right", "slides right"),
    ),
    "moving up": (("moving up", "rising", "going up", "floating upward"), ("moves up", "rises")),
    "moving down": (("moving down", "falling", "going down", "sinking downward"), ("moves down", "falls")),
    "growing": (("growing", "getting bigger", "expanding", "growing larger"), ("grows", "expands")),
    "shrinking": (("shrinking", "getting smaller", "contracting", "shrinking away"), ("shrinks", "contracts")),
}
_BACKGROUND_WORDS = ("background", "backdrop")

_TEMPLATES = (
    "a {c} {s} {ing} on a {b} {bgw}",
    "{c} {s} {s3} over {b}",
    "a {s}, {c}, {ing} on {b}",
    "{b} {bgw} with a {c} {s} {ing}",
    "a {c} {s} on a {b} {bgw}, {ing}",
    "the {c} {s} {s3} against a {b} {bgw}",
    "{c} {s} {ing}, {b} {bgw}",
    "on a {b} {bgw}, a {c} {s} {s3}",
)


def caption(spec: ClipSpec, rng: np.random.Generator, canonical_share: float = 0.4) -> str:
    """A caption for the clip: the canonical sentence or one of the varied wordings."""
    if rng.random() < canonical_share:
        return spec.canonical
    ing_words, s3_words = _MOTION_WORDS[spec.motion]
    template = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
    return template.format(
        c=spec.colour,
        s=spec.shape,
        b=spec.background,
        ing=ing_words[int(rng.integers(len(ing_words)))],
        s3=s3_words[int(rng.integers(len(s3_words)))],
        bgw=_BACKGROUND_WORDS[int(rng.integers(len(_BACKGROUND_WORDS)))],
    )


def vocabulary_corpus() -> list[str]:
    """Every word the captions can use, as sentences (to train the tokenizer on)."""
    words = set(COLOUR_NAMES) | set(SHAPES) | set(_BACKGROUND_WORDS)
    for ing, s3 in _MOTION_WORDS.values():
        for phrase in (*ing, *s3):
            words.update(phrase.split())
    for template in _TEMPLATES:
        words.update(w.strip(",") for w in template.split() if "{" not in w)
    lines = sorted(words)
    lines.append(",")
    return lines


# ---------------------------------------------------------------- sampling


def _shape_draw(rng: np.random.Generator, shape_mix: tuple[float, ...] | None) -> str:
    if shape_mix is None:
        return SHAPES[int(rng.integers(len(SHAPES)))]
    if len(shape_mix) != len(SHAPES) or min(shape_mix) < 0 or sum(shape_mix) <= 0:
        raise ValueError(f"the shape mix needs {len(SHAPES)} weights >= 0 ({', '.join(SHAPES)}), got {shape_mix}")
    p = np.asarray(shape_mix, dtype=np.float64)
    return SHAPES[int(rng.choice(len(SHAPES), p=p / p.sum()))]


def sample_spec(
    rng: np.random.Generator,
    pairs: tuple[tuple[str, str], ...] = TRAIN_PAIRS,
    shape_mix: tuple[float, ...] | None = None,
) -> ClipSpec:
    """A random clip of one of `pairs`; `shape_mix` weighs circle, square, triangle (None: uniform)."""
    colour, background = pairs[int(rng.integers(len(pairs)))]
    return ClipSpec(
        colour=colour,
        shape=_shape_draw(rng, shape_mix),
        motion=MOTIONS[int(rng.integers(len(MOTIONS)))],
        background=background,
        size=float(rng.uniform(*MOVE_SIZE)),
        offset=float(rng.uniform(0.1, 0.9)),
    )


def sample_training_spec(rng: np.random.Generator, shape_mix: tuple[float, ...] | None = None) -> ClipSpec:
    """A training clip: never one of the held-out (colour, background) pairs."""
    spec = sample_spec(rng, TRAIN_PAIRS, shape_mix)
    assert not is_held_out(spec.colour, spec.background)
    return spec


def held_out_prompts() -> list[ClipSpec]:
    """The 108 compositional test prompts: 6 held-out pairs x 3 shapes x 6 motions."""
    return [
        ClipSpec(colour=c, shape=s, motion=m, background=b)
        for (c, b) in sorted(HELD_OUT_PAIRS)
        for s in SHAPES
        for m in MOTIONS
    ]


def seen_prompts(count: int, seed: int = 1234) -> list[ClipSpec]:
    """A fixed sample of prompts whose (colour, background) pair was seen in training."""
    rng = np.random.default_rng(seed)
    specs = []
    for _ in range(count):
        s = sample_spec(rng, TRAIN_PAIRS)
        specs.append(ClipSpec(colour=s.colour, shape=s.shape, motion=s.motion, background=s.background))
    return specs
