"""Rendering through tiny real pipelines: shape, progress, determinism, cancellation, warm cache, batches."""

from __future__ import annotations

import numpy as np
import pytest

from generation.engine import (
    DeviceChoice,
    ModelIncomplete,
    ModelRegistry,
    PipelineCache,
    RenderCancelled,
    RenderRequest,
    RenderResult,
    render,
    render_batch,
    warm,
)

PROMPT = "a red circle moving left on a black background"


@pytest.fixture
def run(registry: ModelRegistry, cpu: DeviceChoice, warm_cache: PipelineCache):
    def go(request: RenderRequest, **kwargs):
        return render(request, registry=registry, device=cpu, cache=warm_cache, **kwargs)

    return go


def test_it_renders_uint8_frames_of_the_requested_shape(run) -> None:
    result = run(RenderRequest(PROMPT, seed=1, num_frames=8))
    assert result.frames.shape == (8, 16, 16, 3)
    assert result.frames.dtype == np.uint8
    assert (result.device, result.dtype, result.pipeline_class) == ("cpu", "float32", "AnimateDiffPipeline")
    assert result.steps_done == 3
    assert result.model_id.endswith(result.weights_hash[:12])
    assert {"torch", "diffusers", "transformers"} <= set(result.versions)
    assert result.timings["denoise_s"] > 0 and result.timings["decode_s"] > 0


def test_progress_rises_monotonically_to_the_total(run) -> None:
    seen: list[tuple[int, int]] = []
    run(RenderRequest(PROMPT, seed=1, num_frames=8, steps=4), on_progress=lambda *step: seen.append(step))
    assert [done for done, _ in seen] == [1, 2, 3, 4]
    assert {total for _, total in seen} == {4}


def test_the_same_seed_gives_identical_frames_and_another_seed_does_not(run) -> None:
    a, b, c = (run(RenderRequest(PROMPT, seed=seed, num_frames=8)) for seed in (42, 42, 43))
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)
    assert a.frames_hash == b.frames_hash != c.frames_hash
    flipped = a.frames.copy()
    flipped[3, 5, 7, 1] ^= 1
    assert RenderResult(**{**vars(a), "frames": flipped}).frames_hash != a.frames_hash


def test_cancelling_stops_at_the_next_step(run) -> None:
    seen: list[int] = []
    with pytest.raises(RenderCancelled) as err:
        run(
            RenderRequest(PROMPT, seed=1, num_frames=8, steps=10),
            on_progress=lambda done, total: seen.append(done),
            should_cancel=lambda: len(seen) >= 2,
        )
    assert (err.value.step, err.value.total) == (2, 10)
    assert seen == [1, 2]


def test_a_clip_cancelled_before_it_starts_never_runs(run) -> None:
    seen: list[int] = []
    with pytest.raises(RenderCancelled):
        run(RenderRequest(PROMPT, seed=1), on_progress=lambda d, t: seen.append(d), should_cancel=lambda: True)
    assert seen == []


def test_a_warm_pipeline_is_reused_with_no_load(registry: ModelRegistry, cpu: DeviceChoice) -> None:
    cache = PipelineCache()
    info = registry.resolve("tiny")
    entry = warm("tiny", registry=registry, device=cpu, cache=cache)
    assert cache.loads == 1 and entry.load_s > 0 and entry.prime_s > 0
    again, loaded_now = cache.get(info, cpu)
    assert again is entry and again.pipe is entry.pipe and not loaded_now
    result = render(RenderRequest(PROMPT, seed=1, num_frames=8), registry=registry, device=cpu, cache=cache)
    assert result.warm and result.timings["load_s"] == 0.0
    assert cache.loads == 1


def test_a_cold_cache_reports_its_load_time(registry: ModelRegistry, cpu: DeviceChoice) -> None:
    cache = PipelineCache()
    result = render(RenderRequest(PROMPT, seed=1, num_frames=8), registry=registry, device=cpu, cache=cache)
    assert not result.warm and result.timings["load_s"] > 0


def test_a_batch_renders_each_prompt_with_its_own_seed_in_one_call(run, registry, cpu, warm_cache) -> None:
    requests = [RenderRequest(PROMPT, seed=5, num_frames=8), RenderRequest("a blue square", seed=6, num_frames=8)]
    results = render_batch(requests, registry=registry, device=cpu, cache=warm_cache)
    assert [r.frames.shape for r in results] == [(8, 16, 16, 3)] * 2
    assert [r.batch_size for r in results] == [2, 2]
    assert [r.request.seed for r in results] == [5, 6]
    # Batched maths may differ from a single call in the last bits, never in substance.
    single = run(RenderRequest(PROMPT, seed=5, num_frames=8)).frames
    assert np.abs(results[0].frames.astype(int) - single).max() <= 2


def test_a_batch_must_share_its_settings(registry, cpu, warm_cache) -> None:
    from generation.engine import InvalidRequest

    with pytest.raises(InvalidRequest, match="num_frames"):
        render_batch(
            [RenderRequest(PROMPT, seed=1, num_frames=8), RenderRequest(PROMPT, seed=2, num_frames=16)],
            registry=registry, device=cpu, cache=warm_cache,
        )


def test_another_family_renders_through_the_same_path(run) -> None:
    seen: list[int] = []
    request = RenderRequest("a red circle", seed=3, num_frames=9, width=16, height=16, steps=2, model="tiny-wan")
    result = run(request, on_progress=lambda done, total: seen.append(done))
    assert result.pipeline_class == "WanPipeline"
    assert result.frames.shape == (9, 16, 16, 3)
    assert seen == [1, 2]
    assert np.array_equal(run(request).frames, result.frames)


def test_unreadable_weights_become_a_model_error(tmp_path, animatediff_dir, cpu) -> None:
    import shutil

    folder = tmp_path / "broken"
    shutil.copytree(animatediff_dir, folder)
    next((folder / "vae").glob("*.safetensors")).write_bytes(b"not safetensors")
    with pytest.raises(ModelIncomplete, match="could not be loaded"):
        render(RenderRequest(PROMPT, seed=1, num_frames=8, model=str(folder)), device=cpu, cache=PipelineCache())


def test_a_model_saved_with_null_components_loads_and_renders(run, registry: ModelRegistry) -> None:
    info = registry.resolve("tiny-sdxl")
    assert {"text_encoder", "tokenizer", "motion_adapter"} <= set(info.null_components)
    request = RenderRequest(PROMPT, seed=3, num_frames=8, width=64, height=64, steps=2, model="tiny-sdxl")
    result = run(request)
    assert result.pipeline_class == "AnimateDiffSDXLPipeline"
    assert result.frames.shape == (8, 64, 64, 3)
    assert np.array_equal(run(request).frames, result.frames)
