"""Decoder screening on saved latents (training/experiments/decoder_screen.py) on the committed model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.data import held_out_prompts
from training.experiments.decoder_screen import decode_latents, render_latents, score_decoder

# Both render with the committed model.
pytestmark = pytest.mark.slow

def test_saved_latents_decode_to_exactly_the_frames_the_pipeline_renders(pipe):
    specs = held_out_prompts()[::40]  # three prompts on three pairs
    latents = render_latents(pipe, specs, num_frames=8, guidance_scale=2.0, seed=1000, batch=2, steps=4)
    assert latents.shape == (3, 8, 8, 8, 8)
    frames = pipe(
        prompt=[s.canonical for s in specs],
        num_frames=8,
        num_inference_steps=4,
        guidance_scale=2.0,
        generator=[torch.Generator().manual_seed(1000 + i) for i in range(3)],
        output_type="np",
    ).frames
    assert np.abs(decode_latents(pipe.vae, latents) - np.asarray(frames)).max() < 1e-4


def test_the_screen_scores_the_shipped_decoder_and_fails_a_broken_one(pipe):
    specs = held_out_prompts()[2::36]  # blue on yellow, magenta on cyan, white on blue, all moving up
    latent_sets = [render_latents(pipe, specs, num_frames=8, guidance_scale=2.0, seed=0)]
    shipped = score_decoder(pipe.vae, latent_sets, specs)
    assert len(shipped) == 1 and shipped[0].total == 3
    assert shipped[0].joint >= 2
    broken = type(pipe.vae).from_config(pipe.vae.config)
    broken.load_state_dict(pipe.vae.state_dict())
    with torch.no_grad():
        broken.decoder.conv_out.weight.zero_()
        broken.decoder.conv_out.bias.fill_(-1.0)  # every frame black: no shape, no colour
    assert score_decoder(broken.eval(), latent_sets, specs)[0].joint == 0
