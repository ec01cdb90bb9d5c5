"""Validation runs on configs alone, before any weights load, and names every problem."""

from __future__ import annotations

import pytest

from generation.engine import InvalidRequest, ModelRegistry, PipelineCache, RenderRequest, render, validate


@pytest.fixture(scope="module")
def tiny(registry: ModelRegistry):
    return registry.resolve("tiny")


@pytest.fixture(scope="module")
def wan(registry: ModelRegistry):
    return registry.resolve("tiny-wan")


def ok(**changes) -> RenderRequest:
    base = {"prompt": "a red circle moving left on a black background", "seed": 7}
    return RenderRequest(**{**base, **changes})


def test_missing_settings_take_the_models_defaults(tiny) -> None:
    r = validate(ok(), tiny)
    assert (r.num_frames, r.fps, r.width, r.height, r.steps, r.guidance_scale) == (16, 8, 16, 16, 3, 3.0)
    # 16 px is under X's 32 px minimum: the default output is a whole-factor upscale.
    assert (r.output_width, r.output_height) == (32, 32)
    assert r.model == "tiny"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prompt": "   "}, "The prompt is empty"),
        ({"num_frames": 0}, "Frames must be a whole number from 1 to 240"),
        ({"num_frames": -3}, "Frames must be a whole number from 1 to 240"),
        ({"num_frames": 241}, "Frames must be a whole number from 1 to 240"),  # 10 windows of 24
        ({"num_frames": 8.0}, "Frames must be a whole number"),
        ({"width": 15}, "Width must be a multiple of 2"),
        ({"height": 9}, "Height must be a multiple of 2"),
        ({"steps": 0}, "Steps must be a whole number from 1 to 150"),
        ({"steps": 151}, "Steps must be a whole number from 1 to 150"),
        ({"guidance_scale": -1.0}, "Guidance must be a number from 0 to 50"),
        ({"guidance_scale": 51}, "Guidance must be a number from 0 to 50"),
        ({"guidance_scale": float("nan")}, "Guidance must be a number"),
        ({"fps": 61}, "Frames per second must be from 1 to 60"),
        ({"num_frames": 2, "fps": 8}, "would last 0.25 s"),
        ({"seed": -1}, "Seed must be a whole number"),
        ({"output_width": 33, "output_height": 32}, "must have even sides"),
        ({"output_width": 1920, "output_height": 1080}, "outside X's limits"),
        ({"output_width": 960, "output_height": 300}, "3:1 aspect"),
    ],
)
def test_each_bad_setting_is_refused_with_a_reason(tiny, changes: dict, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        validate(ok(**changes), tiny)


def test_portrait_720x1280_is_accepted(tiny) -> None:
    assert validate(ok(output_width=720, output_height=1280), tiny).output_height == 1280


def test_a_temporal_vae_gets_the_nearest_frame_count_of_its_step(wan) -> None:
    assert validate(ok(num_frames=10, width=16, height=16), wan).num_frames == 9
    assert validate(ok(num_frames=9, width=16, height=16), wan).num_frames == 9


def test_size_must_be_a_multiple_of_vae_factor_times_patch(wan) -> None:
    with pytest.raises(InvalidRequest, match="multiple of 16"):
        validate(ok(num_frames=9, width=24, height=16), wan)


def test_every_problem_is_listed_at_once(tiny) -> None:
    with pytest.raises(InvalidRequest) as err:
        validate(ok(prompt="", steps=0, width=15), tiny)
    assert len(err.value.problems) == 3


def test_from_params_maps_the_glue_keys() -> None:
    params = {"model_key": "tiny", "frames": 8, "fps": 8, "width": 16, "height": 16, "output_width": 64,
              "output_height": 64, "steps": 2, "guidance": 4.5}
    r = RenderRequest.from_params("a red circle", 3, params, negative_prompt="blurry")
    assert (r.model, r.num_frames, r.steps, r.guidance_scale, r.negative_prompt) == ("tiny", 8, 2, 4.5, "blurry")
    with pytest.raises(InvalidRequest, match="Unknown render setting"):
        RenderRequest.from_params("a red circle", 3, {"frame": 8})


def test_a_bad_request_fails_before_any_weights_load(registry: ModelRegistry) -> None:
    cache = PipelineCache()
    with pytest.raises(InvalidRequest):
        render(ok(steps=0), registry=registry, cache=cache)
    assert cache.loads == 0
