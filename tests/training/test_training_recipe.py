"""How a diffusion stage shapes its steps (training/diffusion.py, Recipe.step_shape)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from training.diffusion import base_recipe, unet_recipe
from training.train import parse_args


def _shapes(recipe, draws: int = 4000) -> Counter:
    rng = np.random.default_rng(0)
    return Counter(recipe.step_shape(rng.random(), 32) for _ in range(draws))


def test_without_image_steps_a_stage_draws_what_it_always_drew():
    shapes = _shapes(base_recipe(parse_args([])))
    assert set(shapes) == {(24, 10), (8, 32)}
    assert abs(shapes[(24, 10)] / 4000 - 0.15) < 0.02


def test_image_steps_take_their_share_at_their_own_batch():
    args = parse_args(["--image-share", "0.5", "--image-batch", "192"])
    shapes = _shapes(base_recipe(args))
    assert set(shapes) == {(24, 10), (1, 192), (8, 32)}
    assert abs(shapes[(1, 192)] / 4000 - 0.5) < 0.03
    assert abs(shapes[(24, 10)] / 4000 - 0.15) < 0.02
    # stage 3e is not an image stage: the option is stage 3's alone
    assert (1, 192) not in _shapes(unet_recipe(args))


def test_stage_3e_draws_its_own_share_of_24_frame_clips():
    assert abs(_shapes(unet_recipe(parse_args([])))[(24, 10)] / 4000 - 0.3) < 0.02
    shapes = _shapes(unet_recipe(parse_args(["--unet-long-share", "0.5"])))
    assert set(shapes) == {(24, 10), (8, 32)}
    assert abs(shapes[(24, 10)] / 4000 - 0.5) < 0.03
    # stage 3's share is its own
    assert abs(_shapes(base_recipe(parse_args(["--unet-long-share", "0.5"])))[(24, 10)] / 4000 - 0.15) < 0.02
