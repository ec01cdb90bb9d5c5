"""The latent cache the diffusion stages sample from (training/cache.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from training import components as C
from training.autoencoder import frames_to_tensor
from training.cache import LatentCache, build_cache, encode_clips
from training.data import ClipSpec, render_clip, sample_training_spec

BUNDLED = Path(__file__).resolve().parents[2] / "generation" / "bundled"


@pytest.fixture(scope="module")
def vae() -> C.AutoencoderKL:
    return C.AutoencoderKL.from_pretrained(BUNDLED / "vae").requires_grad_(False).eval()


@pytest.mark.slow
def test_bf16_encoding_stays_within_the_decoders_jitter_of_fp32(vae):
    specs = [sample_training_spec(np.random.default_rng(s)) for s in range(4)]
    fast = encode_clips(vae, specs, 8, "test").astype(np.float32)
    with torch.no_grad():
        pixels = frames_to_tensor(np.concatenate([render_clip(s, 8) for s in specs]))
        exact = (vae.encode(pixels).latent_dist.mean * vae.config.scaling_factor).reshape(fast.shape).numpy()
    assert np.abs(fast - exact).mean() < 0.01
    assert np.abs(fast - exact).max() < 0.1
    assert np.abs(exact).mean() > 0.3  # the bounds above are small against the latents themselves


def test_the_cache_keeps_a_share_of_long_clips_and_short_ones_are_their_prefixes(vae, tmp_path):
    cache = build_cache(vae, tmp_path, clips=12, long_share=0.25, seed=3)
    assert cache.long.shape == (3, 24, C.LATENT_CHANNELS, 8, 8)
    assert cache.short.shape == (12, 8, C.LATENT_CHANNELS, 8, 8)
    np.testing.assert_array_equal(cache.short[:3], cache.long[:, :8])
    again = LatentCache.load(tmp_path / "latents.npz")
    np.testing.assert_array_equal(again.short, cache.short)
    assert again.specs == cache.specs


def test_long_batches_draw_only_long_clips_and_specs_follow_the_latents():
    specs = [ClipSpec("red", "circle", "growing", "black", offset=i / 10) for i in range(10)]
    latents = np.arange(10, dtype=np.float16).reshape(10, 1, 1, 1, 1) * np.ones((1, 24, 8, 8, 8), np.float16)
    cache = LatentCache(specs=specs, short=latents[:, :8].copy(), long=latents[:2])
    rng = np.random.default_rng(0)
    x0, drawn = cache.sample(rng, 64, 24)
    assert x0.shape == (64, 8, 24, 8, 8)
    assert set(x0[:, 0, 0, 0, 0].tolist()) <= {0.0, 1.0}
    x0, drawn = cache.sample(rng, 64, 8)
    assert x0.shape == (64, 8, 8, 8, 8)
    assert len(set(x0[:, 0, 0, 0, 0].tolist())) > 2
    assert [round(s.offset * 10) for s in drawn] == [int(v) for v in x0[:, 0, 0, 0, 0].tolist()]


def test_an_old_full_length_cache_still_loads(tmp_path):
    specs = [ClipSpec("red", "circle", "growing", "black")] * 3
    latents = np.ones((3, 24, 8, 8, 8), np.float16)
    np.savez(tmp_path / "old.npz", latents=latents, specs=np.array(specs, dtype=object))
    cache = LatentCache.load(tmp_path / "old.npz")
    assert cache.long.shape[0] == 3 and cache.short.shape == (3, 8, 8, 8, 8)


def test_image_batches_take_one_frame_of_each_drawn_short_clip():
    specs = [ClipSpec("red", "circle", "growing", "black", offset=i / 10) for i in range(10)]
    # latent value = 10 * clip + frame, so a drawn value names both
    values = (10 * np.arange(10)[:, None] + np.arange(8)[None, :]).astype(np.float16)
    short = values.reshape(10, 8, 1, 1, 1) * np.ones((1, 1, 8, 8, 8), np.float16)
    cache = LatentCache(specs=specs, short=short, long=short[:1])
    x0, drawn = cache.sample(np.random.default_rng(0), 200, 1)
    assert x0.shape == (200, 8, 1, 8, 8)
    drawn_values = [int(v) for v in x0[:, 0, 0, 0, 0].tolist()]
    assert [round(s.offset * 10) for s in drawn] == [v // 10 for v in drawn_values]
    assert len({v % 10 for v in drawn_values}) == 8  # every frame of the clip can be drawn, not only the first


def test_a_cache_remembers_its_shape_mix_and_refuses_another(vae, tmp_path):
    mixed = build_cache(vae, tmp_path, clips=8, long_share=0.25, seed=3, shape_mix=(0.0, 1.0, 0.0))
    assert {s.shape for s in mixed.specs} == {"square"}
    again = build_cache(vae, tmp_path, clips=8, long_share=0.25, seed=3, shape_mix=(0.0, 1.0, 0.0))
    assert again.shape_mix == (0.0, 1.0, 0.0) and again.specs == mixed.specs
    with pytest.raises(ValueError, match="shape mix"):
        build_cache(vae, tmp_path, clips=8, long_share=0.25, seed=3)  # uniform asked of a squares-only cache
