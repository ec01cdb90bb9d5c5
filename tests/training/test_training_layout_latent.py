"""The structured latent: colour channels pooled from the frame, layout channels from the mask alone
(training/layout_latent.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch

from training import components as C
from training.autoencoder import frames_to_tensor
from training.cache import build_cache
from training.data import ClipSpec, render_clip
from training.layout_latent import (
    COLOUR_CHANNELS,
    LAYOUT_FILE,
    ChannelNorm,
    ExactEncoder,
    LayoutEncoder,
    exact_encoder_for,
    fold_channel_norm,
    foreground_mask,
    raw_latents,
    train_structured_vae,
)


def frames(colour: str, background: str, shape: str = "square") -> torch.Tensor:
    return frames_to_tensor(render_clip(ClipSpec(colour, shape, "moving left", background), 8))


def test_the_layout_channels_are_the_same_for_every_colour_pair_and_the_colour_channels_are_the_pooled_frame():
    torch.manual_seed(0)
    layout = LayoutEncoder().eval()
    seen, held_out = frames("green", "blue"), frames("green", "black")
    with torch.no_grad():
        a, b = raw_latents(seen, layout), raw_latents(held_out, layout)
    torch.testing.assert_close(a[:, COLOUR_CHANNELS:], b[:, COLOUR_CHANNELS:])
    torch.testing.assert_close(b[:, :COLOUR_CHANNELS], torch.nn.functional.avg_pool2d(held_out, 8))
    assert not torch.allclose(a[:, :COLOUR_CHANNELS], b[:, :COLOUR_CHANNELS])  # the backgrounds differ
    other_shape = frames("green", "black", "circle")
    with torch.no_grad():
        assert not torch.allclose(raw_latents(other_shape, layout)[:, COLOUR_CHANNELS:], b[:, COLOUR_CHANNELS:])


def test_the_mask_is_the_shape_whatever_its_colours():
    for colour, background in (("green", "black"), ("black", "white"), ("yellow", "red")):
        mask = foreground_mask(frames(colour, background))
        assert 0.02 < mask.mean() < 0.5
        assert mask[:, :, 0, 0].sum() == 0


def test_a_folded_channel_norm_decodes_standardised_latents_as_the_raw_ones_decoded_before():
    torch.manual_seed(0)
    vae = C.build_vae().eval()
    z = torch.randn(2, C.LATENT_CHANNELS, 8, 8) * torch.linspace(0.1, 2.0, C.LATENT_CHANNELS).view(1, -1, 1, 1) + 0.3
    norm = ChannelNorm.measure(z)
    with torch.no_grad():
        before = vae.decode(z).sample
        fold_channel_norm(vae, norm)
        after = vae.decode(norm(z)).sample
    torch.testing.assert_close(after, before, atol=1e-4, rtol=1e-4)


@pytest.mark.slow
def test_structured_training_saves_a_folder_and_an_exact_encoder_that_the_cache_reads_and_reloads(tmp_path: Path):
    args = argparse.Namespace(
        seed=0, vae_lr=5e-4, structured_steps=2, structured_jitter=0.1, encoder_fit_steps=2
    )
    vae, exact = train_structured_vae(args, tmp_path)
    assert (tmp_path / "vae" / "config.json").exists() and (tmp_path / LAYOUT_FILE).exists()
    assert exact_encoder_for(tmp_path, vae) is not None
    assert exact_encoder_for(tmp_path / "vae", vae) is None  # a folder without a layout encoder: a learned latent

    cache = build_cache(exact, tmp_path, clips=4, long_share=0.25, seed=1)
    clip = torch.from_numpy(cache.short[0].astype(np.float32))  # (8, C, 8, 8), scaled
    pixels = frames_to_tensor(render_clip(cache.specs[0], 8))
    expected = exact.encode(pixels).latent_dist.mean * vae.config.scaling_factor
    torch.testing.assert_close(clip, expected, atol=2e-3, rtol=2e-3)  # stored as fp16

    again_vae, again = train_structured_vae(args, tmp_path)  # the second call loads, it does not retrain
    torch.testing.assert_close(again.encode(pixels).latent_dist.mean, exact.encode(pixels).latent_dist.mean)
    reloaded = ExactEncoder.load(tmp_path / LAYOUT_FILE, again_vae)
    torch.testing.assert_close(reloaded.norm.std, exact.norm.std)



def test_the_structured_autoencoder_takes_its_own_seed_when_given_and_the_runs_otherwise():
    from training.layout_latent import structured_seed
    from training.train import parse_args

    assert structured_seed(parse_args(["--seed", "21", "--structured-seed", "0"])) == 0
    assert structured_seed(parse_args(["--seed", "21"])) == 21


def test_a_run_from_scratch_builds_the_structured_latent_and_a_released_folder_keeps_its_own():
    from training.train import builds_structured_latent, parse_args

    assert builds_structured_latent(parse_args([]))
    assert not builds_structured_latent(parse_args(["--learned-latent"]))
    assert not builds_structured_latent(parse_args(["--init-from", "generation/bundled"]))
    assert builds_structured_latent(parse_args(["--init-from", "generation/bundled", "--structured-latent"]))
    with pytest.raises(SystemExit):
        parse_args(["--structured-latent", "--learned-latent"])
    with pytest.raises(SystemExit):
        parse_args(["--init-from", "generation/bundled", "--learned-latent"])


def test_from_scratch_on_the_structured_latent_stage_3_is_longer_3b_off_and_3e_short_unless_asked():
    from training.train import parse_args

    def diffusion_stages(argv: list[str]) -> tuple[int, int, int]:
        args = parse_args(argv)
        return args.steps, args.finetune_steps, args.unet_steps

    assert diffusion_stages([]) == (6000, 0, 1000)
    assert diffusion_stages(["--steps", "300", "--unet-steps", "500", "--finetune-steps", "200"]) == (300, 200, 500)
    assert diffusion_stages(["--learned-latent"]) == (4500, 1500, 3000)
    assert diffusion_stages(["--init-from", "generation/bundled"]) == (4500, 1500, 3000)
    assert diffusion_stages(["--init-from", "generation/bundled", "--structured-latent"]) == (4500, 1500, 3000)


def test_from_scratch_on_the_structured_latent_stage_3_hands_on_its_last_weights_unless_asked():
    from training.diffusion import base_recipe
    from training.train import parse_args

    assert base_recipe(parse_args([])).keep_last
    assert not base_recipe(parse_args(["--stage3-keeps", "best"])).keep_last
    assert not base_recipe(parse_args(["--learned-latent"])).keep_last
    assert not base_recipe(parse_args(["--init-from", "generation/bundled"])).keep_last
    assert base_recipe(parse_args(["--init-from", "generation/bundled", "--stage3-keeps", "last"])).keep_last
