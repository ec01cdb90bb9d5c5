"""The committed model in generation/bundled/: loads offline with plain diffusers and still renders well."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from training.analyser import analyse
from training.data import ClipSpec

BUNDLED = Path(__file__).resolve().parents[2] / "generation" / "bundled"

# A regression guard for the weights: held-out (colour, background) pairs at fixed seeds.
GUARD = [
    ClipSpec(colour="red", shape="circle", motion="moving right", background="white"),
    ClipSpec(colour="blue", shape="square", motion="growing", background="yellow"),
    ClipSpec(colour="green", shape="triangle", motion="moving up", background="black"),
    ClipSpec(colour="white", shape="square", motion="moving left", background="blue"),
]


@pytest.fixture(scope="module")
def settings():
    return json.loads((BUNDLED / "clipcast.json").read_text())


def test_the_bundled_folder_is_small_and_complete():
    size = sum(p.stat().st_size for p in BUNDLED.rglob("*") if p.is_file())
    assert size <= 40_000_000
    assert (BUNDLED / "model_index.json").exists()
    assert (BUNDLED / "MODEL_CARD.md").exists()


def test_it_loads_offline_as_a_plain_diffusers_pipeline(pipe, settings):
    assert type(pipe).__name__ == "AnimateDiffSDXLPipeline"
    assert settings["num_inference_steps"] == 20
    assert settings["height"] == settings["width"] == 64


@pytest.mark.slow
def test_held_out_prompts_render_what_they_say(pipe, settings):
    frames = pipe(
        prompt=[s.canonical for s in GUARD],
        num_frames=8,
        num_inference_steps=settings["num_inference_steps"],
        guidance_scale=settings["guidance_scale"],
        generator=[torch.Generator().manual_seed(i) for i in range(len(GUARD))],
        output_type="np",
    ).frames
    assert np.asarray(frames).shape == (len(GUARD), 8, 64, 64, 3)
    misses = []
    for spec, clip in zip(GUARD, frames, strict=True):
        expected = {"colour": spec.colour, "shape": spec.shape, "motion": spec.motion, "background": spec.background}
        if analyse(clip).as_dict() != expected:
            misses.append(spec.canonical)
    # The weights score about 99% joint on held-out prompts; one miss in four is allowed for drift in kernels across
    # machines, two are a regression.
    assert len(misses) <= 1, misses


def test_the_text_encoder_tells_the_four_directions_apart(pipe):
    """The diagnosed failure of the first release: directions 0.06-0.13 apart in pooled space (colours: 2-6)."""
    prompts = [f"a red square moving {d} on a black background" for d in ("left", "right", "up", "down")]
    tokenizer = pipe.tokenizer_2
    ids = tokenizer(
        prompts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
    ).input_ids
    with torch.no_grad():
        pooled = pipe.text_encoder_2(ids).text_embeds
    distances = torch.cdist(pooled, pooled)
    nearest = distances[~torch.eye(4, dtype=torch.bool)].min().item()
    assert nearest > 1.0


def test_out_of_vocabulary_prompts_render_without_error(pipe, settings):
    frames = pipe(
        prompt="a purple dodecahedron dancing wildly on the moon, 4k, #cinematic 東京",
        num_frames=8,
        num_inference_steps=2,
        guidance_scale=settings["guidance_scale"],
        generator=torch.Generator().manual_seed(0),
        output_type="np",
    ).frames
    clip = np.asarray(frames)[0]
    assert clip.shape == (8, 64, 64, 3)
    assert np.isfinite(clip).all()


@pytest.mark.slow
def test_the_report_scores_the_held_out_prompts_again_with_more_seed_sets():
    from training.evaluate import report

    result = report(BUNDLED, quick=True, frames=(8,), extra_seed_sets=1)
    first, second = result["held-out 8f"], result["held-out 8f seed 1000"]
    mean = result["held-out 8f mean of 2 seed sets"]
    for slot in ("shape", "joint"):
        assert mean[slot] == pytest.approx((first[slot] + second[slot]) / 2)
    assert "| held-out 8f seed 1000 | 12 |" in result["text"]
    assert "seen 8f seed" not in result["text"]  # only the held-out prompts get more seed sets
    assert result["reconstruction_ceiling"]["shape"] >= 0.9  # the autoencoder alone keeps the shape
    assert "(the ceiling): shape" in result["text"]


def test_the_bundled_decoder_draws_every_held_out_pair_back_from_its_layout_latent():
    from training import components as C
    from training.autoencoder import frames_to_tensor
    from training.data import HELD_OUT_PAIRS, render_clip
    from training.layout_latent import exact_encoder_for

    vae = C.AutoencoderKL.from_pretrained(BUNDLED / "vae").requires_grad_(False).eval()
    exact = exact_encoder_for(BUNDLED, vae)
    assert exact is not None, "the bundled folder keeps the layout encoder its UNet's latents came from"
    specs = [
        ClipSpec(colour, shape, motion, background)
        for colour, background in sorted(HELD_OUT_PAIRS)
        for shape, motion in (("square", "moving left"), ("circle", "growing"))
    ]
    clips = [render_clip(s, 8) for s in specs]
    with torch.no_grad():
        z = exact.encode(frames_to_tensor(np.concatenate(clips))).latent_dist.mean
        decoded = vae.decode(z).sample.clamp(-1, 1).add(1).div(2).permute(0, 2, 3, 1).numpy()
    decoded = decoded.reshape(len(specs), 8, 64, 64, 3)
    slots = ("colour", "shape", "motion", "background")
    misses = [
        s.canonical
        for s, d in zip(specs, decoded, strict=True)
        if analyse(d).as_dict() != {slot: getattr(s, slot) for slot in slots}
    ]
    assert not misses, misses
