from __future__ import annotations

import numpy as np

from generation.training.analyser import analyse
from generation.training.data import (
    ALL_PAIRS,
    HELD_OUT_PAIRS,
    TRAIN_PAIRS,
    caption,
    held_out_prompts,
    render_clip,
    sample_spec,
    sample_training_spec,
)


def test_the_training_sampler_never_emits_a_held_out_pair():
    rng = np.random.default_rng(0)
    seen = {(s.colour, s.background) for s in (sample_training_spec(rng) for _ in range(20_000))}
    assert not seen & HELD_OUT_PAIRS
    assert seen == set(TRAIN_PAIRS)  # every other pair still appears


def test_each_held_out_colour_and_background_still_appears_in_training():
    colours = {c for c, _ in TRAIN_PAIRS}
    backgrounds = {b for _, b in TRAIN_PAIRS}
    for c, b in HELD_OUT_PAIRS:
        assert c in colours and b in backgrounds


def test_there_are_108_held_out_prompts():
    prompts = held_out_prompts()
    assert len(prompts) == 108
    assert all((p.colour, p.background) in HELD_OUT_PAIRS for p in prompts)


def test_an_8_frame_clip_is_the_start_of_the_24_frame_clip():
    spec = sample_spec(np.random.default_rng(3), ALL_PAIRS)
    assert np.array_equal(render_clip(spec, 8), render_clip(spec, 24)[:8])


def test_captions_vary_but_always_name_the_colours():
    rng = np.random.default_rng(1)
    spec = sample_training_spec(rng)
    texts = {caption(spec, rng) for _ in range(50)}
    assert len(texts) > 5
    assert spec.canonical in texts
    assert all(spec.colour in t and spec.background in t and spec.shape in t for t in texts)


def _analyser_accuracy(num_frames: int, count: int = 150) -> float:
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(count):
        spec = sample_spec(rng, ALL_PAIRS)
        got = analyse(render_clip(spec, num_frames)).as_dict()
        want = {"colour": spec.colour, "shape": spec.shape, "motion": spec.motion, "background": spec.background}
        hits += got == want
    return hits / count


def test_the_analyser_reads_ground_truth_8_frame_clips():
    assert _analyser_accuracy(8) >= 0.99


def test_the_analyser_reads_ground_truth_24_frame_clips():
    assert _analyser_accuracy(24, count=100) >= 0.99
