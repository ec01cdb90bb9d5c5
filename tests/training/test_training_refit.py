"""The decoded pixel loss (stage 3d) and the decoder refit on the model's own samples (stage 4)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from training.analyser import analyse
from training.autoencoder import frames_to_tensor
from training.data import ClipSpec, render_clip, sample_training_spec
from training.diffusion import load_released, pixel_recipe
from training.objectives import decoded_pixel_loss
from training.refit import redraw, refit_decoder, refit_pairs

BUNDLED = Path(__file__).resolve().parents[2] / "generation" / "bundled"


def _args(**overrides: object) -> argparse.Namespace:
    from training.train import parse_args

    args = parse_args([])
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


def _encode(vae, clips: list[np.ndarray]) -> torch.Tensor:
    """Scaled latents (B, C, F, H, W) of uint8 clips (F, 64, 64, 3)."""
    frames = len(clips[0])
    with torch.no_grad():
        z = vae.encode(frames_to_tensor(np.concatenate(clips))).latent_dist.mean * vae.config.scaling_factor
    return z.reshape(len(clips), frames, *z.shape[1:]).permute(0, 2, 1, 3, 4)


def test_redraw_puts_the_prompted_shape_where_the_sample_drew_its_blob():
    drawn = ClipSpec(colour="red", shape="circle", motion="moving right", background="white", size=24, offset=0.3)
    asked = ClipSpec(colour="red", shape="square", motion="moving right", background="white")
    frames = render_clip(drawn, 8).astype(np.float64) / 255.0
    target = redraw(frames, asked)
    assert target is not None
    reading = analyse(target)
    assert (reading.shape, reading.colour, reading.background, reading.motion) == (
        "square",
        "red",
        "white",
        "moving right",
    )
    drawn_rows = np.nonzero((render_clip(drawn, 8)[0] != 255).any(-1).any(-1))[0]
    target_rows = np.nonzero((target[0] != 255).any(-1).any(-1))[0]
    assert (drawn_rows.min(), drawn_rows.max()) == (target_rows.min(), target_rows.max())  # same place, same size


def test_redraw_gives_up_on_a_sample_with_no_shape():
    empty = np.ones((8, 64, 64, 3))  # all white
    assert redraw(empty, ClipSpec(colour="red", shape="square", motion="growing", background="white")) is None


@pytest.mark.slow
def test_the_pixel_loss_is_small_for_the_true_latents_and_zero_for_pure_noise_steps():
    torch.set_num_threads(min(2, torch.get_num_threads()))
    vae, _ = load_released(BUNDLED)
    rng = np.random.default_rng(3)
    specs = [sample_training_spec(rng) for _ in range(4)]
    true = _encode(vae, [render_clip(s, 8) for s in specs])
    wrong = true[[1, 2, 3, 0]].clone().requires_grad_(True)
    ones = torch.ones(4)
    right_loss = decoded_pixel_loss(vae, true, specs, ones, np.random.default_rng(0))
    wrong_loss = decoded_pixel_loss(vae, wrong, specs, ones, np.random.default_rng(0))
    assert right_loss < 0.5 * wrong_loss
    wrong_loss.backward()
    assert wrong.grad is not None and wrong.grad.abs().sum() > 0  # it trains the UNet through the frozen decoder
    assert decoded_pixel_loss(vae, true, specs, torch.zeros(4), np.random.default_rng(0)) == 0


def test_the_pixel_recipe_is_the_fine_tune_with_the_pixel_loss_for_the_slot_loss():
    recipe = pixel_recipe(_args(pixel_steps=700, pixel_weight=2.0))
    assert (recipe.name, recipe.steps, recipe.pixel_weight) == ("pixel", 700, 2.0)
    assert recipe.slot_weight == 0 and recipe.x0_floor > 0


def test_refit_pairs_of_true_latents_redraw_the_true_clips():
    vae, _ = load_released(BUNDLED)
    rng = np.random.default_rng(5)
    specs = [sample_training_spec(rng) for _ in range(4)]
    clips = [render_clip(s, 8) for s in specs]
    inputs, targets = refit_pairs(vae, _encode(vae, clips).numpy(), specs)
    assert inputs.shape == (32, 8, 8, 8) and targets.shape == (32, 3, 64, 64)
    expected = frames_to_tensor(np.concatenate(clips))
    assert (targets - expected).abs().gt(0.5).float().mean() < 0.01  # at most a pixel's rim moved


@pytest.mark.slow
def test_a_short_refit_changes_only_the_decoder_and_resumes_from_its_folder(tmp_path):
    torch.set_num_threads(min(2, torch.get_num_threads()))
    vae, trained = load_released(BUNDLED)
    encoder_before = {k: v.clone() for k, v in vae.encoder.state_dict().items()}
    decoder_before = {k: v.clone() for k, v in vae.decoder.state_dict().items()}
    args = _args(refit_clips=3, refit_steps=2)
    refit = refit_decoder(args, tmp_path, vae, trained)
    assert all(torch.equal(encoder_before[k], v) for k, v in refit.encoder.state_dict().items())
    assert any(not torch.equal(decoder_before[k], v) for k, v in refit.decoder.state_dict().items())
    assert np.load(tmp_path / "refit_samples.npy").shape == (3, 8, 8, 8, 8)
    events = [json.loads(line)["event"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert events.count("refit_done") == 1

    again = refit_decoder(args, tmp_path, load_released(BUNDLED)[0], trained)
    assert all(torch.equal(refit.decoder.state_dict()[k], v) for k, v in again.decoder.state_dict().items())
