from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from training.analyser import analyse
from training.data import (
    ALL_PAIRS,
    HELD_OUT_PAIRS,
    SHAPES,
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


def test_a_shape_mix_weighs_the_shapes_and_still_never_emits_a_held_out_pair():
    rng = np.random.default_rng(0)
    specs = [sample_training_spec(rng, shape_mix=(1.0, 2.0, 1.0)) for _ in range(8000)]
    shares = {shape: count / len(specs) for shape, count in Counter(s.shape for s in specs).items()}
    assert set(shares) == set(SHAPES)
    assert abs(shares["square"] - 0.5) < 0.03 and abs(shares["circle"] - 0.25) < 0.03
    assert not {(s.colour, s.background) for s in specs} & HELD_OUT_PAIRS


def test_without_a_shape_mix_the_shapes_are_drawn_evenly():
    rng = np.random.default_rng(1)
    counts = Counter(sample_training_spec(rng).shape for _ in range(6000))
    assert all(abs(counts[shape] / 6000 - 1 / 3) < 0.03 for shape in SHAPES)


@pytest.mark.parametrize("mix", [(1.0, 2.0), (1.0, -1.0, 1.0), (0.0, 0.0, 0.0)])
def test_a_bad_shape_mix_is_refused(mix):
    with pytest.raises(ValueError, match="shape mix"):
        sample_training_spec(np.random.default_rng(0), shape_mix=mix)


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


@pytest.mark.slow
def test_the_analyser_reads_ground_truth_24_frame_clips():
    assert _analyser_accuracy(24, count=100) >= 0.99


def test_the_bundled_models_vocabulary_is_the_words_of_its_training_captions():
    import json

    from generation.engine import BUNDLED_PATH
    from training.data import vocabulary_corpus

    groups = json.loads((BUNDLED_PATH / "clipcast.json").read_text())["vocabulary"]
    listed = {word for entries in groups.values() for entry in entries for word in entry.split()}
    caption_words = set(vocabulary_corpus()) - {","}
    # "an" is the article "a" before a vowel: no caption needs it, and it names nothing the model draws.
    assert listed == caption_words | {"an"}
