"""Clips longer than a model's native window: window plans, fusion weights, noise re-use, and renders through them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from generation.engine import InvalidRequest, ModelRegistry, RenderRequest, render, validate
from generation.engine.windowing import (
    Window,
    frame_limit,
    fuse,
    fuse_stacked,
    fusion_weights,
    initial_noise,
    plan_for,
    plan_mirror,
    plan_overlap,
)


def test_a_mirror_plan_covers_ten_seconds_with_windows_no_longer_than_the_models() -> None:
    plan = plan_mirror(80, 24)

    assert len(plan.windows) == 4 and all(w.length <= 24 for w in plan.windows)
    assert plan.shown == tuple(range(80))
    assert [w.backwards for w in plan.windows] == [False, True, False, True]
    covered = {f for w in plan.windows for f in w.frames}
    assert set(range(80)) <= covered and plan.rendered_frames == len(covered)


def test_mirror_windows_share_one_frame_at_each_turn_and_keep_their_first_frame_as_a_lead_in() -> None:
    plan = plan_mirror(80, 24)
    first, second, third = plan.windows[:3]

    # The crossing's end (own last frame) is shared where the first window hands over to the second...
    assert first.frames[-1] == second.frames[-1] == plan.boundaries[0]
    # ...and the second frame where the second hands over to the third; their first frames are shown nowhere.
    assert second.frames[1] == third.frames[1] == plan.boundaries[1]
    assert second.frames[0] not in plan.shown and third.frames[0] not in plan.shown
    assert second.frames[0] != third.frames[0]


def test_an_overlap_plan_steps_by_its_stride_and_ends_at_the_clips_end() -> None:
    plan = plan_overlap(40, 16, 4)

    starts = [w.frames[0] for w in plan.windows]
    assert starts == [0, 4, 8, 12, 16, 20, 24]
    assert all(w.frames == tuple(range(w.frames[0], w.frames[0] + 16)) for w in plan.windows)
    assert plan_overlap(42, 16, 8).windows[-1].frames[-1] == 41


def test_pyramid_weights_rise_to_the_middle_and_stay_positive_at_the_edges() -> None:
    w = fusion_weights(6)

    assert w.tolist() == [1.0, 2.0, 3.0, 3.0, 2.0, 1.0]
    assert fusion_weights(5, "flat").tolist() == [1.0] * 5


def test_fusion_weighs_each_windows_prediction_by_its_pyramid_weight() -> None:
    plan = plan_overlap(6, 4, 2)  # windows 0-3 and 2-5: frames 2 and 3 are seen by both
    sample = torch.zeros(1, 1, 6, 1, 1)
    value = {0: 10.0, 2: 20.0}

    fused = fuse(plan, sample, lambda part, window: torch.full_like(part, value[window.frames[0]]))

    # window 0 weights frames 2, 3 by (2, 1); window 1 by (1, 2)
    assert fused.flatten().tolist() == pytest.approx([10, 10, (2 * 10 + 20) / 3, (10 + 2 * 20) / 3, 20, 20])


def test_fusion_of_a_faithful_denoiser_returns_its_input_and_a_backwards_window_sees_reversed_frames() -> None:
    plan = plan_mirror(30, 12)
    sample = torch.randn(2, 3, plan.rendered_frames, 2, 2)
    seen: list[Window] = []

    def predict(part: torch.Tensor, window: Window) -> torch.Tensor:
        seen.append(window)
        assert torch.equal(part, sample[:, :, list(window.frames)])
        return part

    assert torch.allclose(fuse(plan, sample, predict), sample)
    assert any(w.backwards for w in seen)


def test_one_stacked_call_over_all_windows_fuses_as_one_call_per_window() -> None:
    plan = plan_mirror(40, 16)
    sample = torch.randn(2, 3, plan.rendered_frames, 2, 2, generator=torch.Generator().manual_seed(0))

    def denoise(part: torch.Tensor) -> torch.Tensor:  # depends on each frame's place in its window and on the batch
        ramp = torch.arange(part.shape[2], dtype=part.dtype).view(1, 1, -1, 1, 1)
        return part * 2 + ramp + part.mean(dim=2, keepdim=True)

    one_by_one = fuse(plan, sample, lambda part, window: denoise(part))
    stacked = fuse_stacked(plan, sample, denoise)

    assert torch.allclose(stacked, one_by_one, atol=1e-6)


def test_mirror_noise_gives_every_window_the_first_windows_noise_in_its_own_time() -> None:
    plan = plan_mirror(80, 24)
    base = torch.randn(1, 4, plan.windows[0].length, 2, 2, generator=torch.Generator().manual_seed(1))

    noise = initial_noise(plan, base)

    for window in plan.windows:
        assert torch.equal(noise[:, :, list(window.frames)], base)


def test_overlap_noise_reuses_shuffled_frames_of_the_window_before_and_is_seeded() -> None:
    plan = plan_overlap(40, 16, 4)
    base = torch.randn(1, 2, 16, 2, 2, generator=torch.Generator().manual_seed(3))

    noise = initial_noise(plan, base, torch.Generator().manual_seed(0))
    again = initial_noise(plan, base, torch.Generator().manual_seed(0))

    assert torch.equal(noise, again) and torch.equal(noise[:, :, :16], base)
    for t in range(16, 40):
        before = noise[:, :, t - 16 - (t - 16) % 4:t - (t - 16) % 4]
        assert any(torch.equal(noise[:, :, t], before[:, :, k]) for k in range(before.shape[2]))


def test_the_bundled_model_accepts_ten_seconds_and_refuses_past_its_windowed_limit() -> None:
    info = ModelRegistry().resolve("bundled")

    resolved = validate(RenderRequest(prompt="a blue square moving left on a yellow background", seed=0,
                                      num_frames=80, fps=8), info)
    assert resolved.duration_s == 10.0 and frame_limit(info) == 240
    with pytest.raises(InvalidRequest, match="from 1 to 240"):
        validate(RenderRequest(prompt="a red circle", seed=0, num_frames=241), info)
    assert plan_for(info, 24) is None and plan_for(info, 80).mode == "mirror"


def test_families_with_long_native_windows_are_never_windowed(registry: ModelRegistry) -> None:
    info = registry.resolve("tiny-wan")

    assert frame_limit(info) == info.defaults.max_frames and plan_for(info, info.defaults.max_frames) is None


@pytest.fixture(scope="module")
def mirror_sdxl_dir(sdxl_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mirror") / "sdxl"
    shutil.copytree(sdxl_dir, folder)
    (folder / "clipcast.json").write_text(json.dumps({"windowing": {"mode": "mirror", "max_frames": 64}}))
    return folder


@pytest.mark.parametrize("key", ["tiny-sdxl", "mirror-sdxl"])
def test_a_long_clip_renders_through_windows_with_progress_over_every_window(
    key: str, sdxl_dir: Path, mirror_sdxl_dir: Path, cpu, warm_cache
) -> None:
    registry = ModelRegistry({"tiny-sdxl": sdxl_dir, "mirror-sdxl": mirror_sdxl_dir})
    progress: list[tuple[int, int]] = []

    result = render(
        RenderRequest(prompt="a red circle", seed=1, num_frames=40, steps=2, model=key),
        lambda done, total: progress.append((done, total)), registry=registry, device=cpu, cache=warm_cache,
    )

    plan = result.provenance()["windowing"]
    assert result.frames.shape[0] == 40 and plan["windows"] >= 3 and plan["window"] <= 16
    assert plan["mode"] == ("mirror" if key == "mirror-sdxl" else "overlap")
    total = 2 * plan["windows"]  # two steps, each through every window
    assert {t for _, t in progress} == {total} and progress == [(plan["windows"], total), (total, total)]


def test_a_text_to_video_sd_unet3d_is_windowed_by_the_engine_too(
    text_to_video_sd_dir: Path, tmp_path: Path, cpu, warm_cache
) -> None:
    folder = tmp_path / "t2v"
    shutil.copytree(text_to_video_sd_dir, folder)
    (folder / "clipcast.json").write_text(json.dumps({"max_frames": 8}))  # a native window of 8 frames
    registry = ModelRegistry({"t2v": folder})

    result = render(RenderRequest(prompt="a red circle", seed=1, num_frames=12, steps=1, model="t2v", fps=8),
                    registry=registry, device=cpu, cache=warm_cache)

    assert result.frames.shape[0] == 12 and result.windowing["implementation"] == "clipcast"
    assert result.windowing["windows"] == 3 and frame_limit(registry.resolve("t2v")) == 80


def test_animatediff_uses_diffusers_own_free_noise_and_turns_it_off_after(
    registry: ModelRegistry, cpu, warm_cache
) -> None:
    info = registry.resolve("tiny")
    frames = info.defaults.max_frames + 8

    result = render(RenderRequest(prompt="a red circle", seed=1, num_frames=frames, steps=2, model="tiny"),
                    registry=registry, device=cpu, cache=warm_cache)

    assert result.frames.shape[0] == frames
    assert result.windowing["implementation"] == "diffusers"
    pipe, _ = warm_cache.get(info, cpu)
    assert not pipe.pipe.free_noise_enabled
