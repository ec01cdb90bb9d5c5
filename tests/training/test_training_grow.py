"""Growing a UNet of the from-scratch layout (attention added at 8x8) keeps what it renders until a fine-tune
changes it. The shipped UNet is already grown, so the tests grow a freshly built one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from training import components as C
from training.cache import LatentCache
from training.data import sample_training_spec
from training.diffusion import load_released, train_diffusion, unet_recipe
from training.grow import grow_unet, largest_difference
from training.train import parse_args

BUNDLED = Path(__file__).resolve().parents[2] / "generation" / "bundled"


def _plain_unet() -> C.UNetMotionModel:
    torch.manual_seed(0)
    unet = C.build_unet().eval()
    assert not hasattr(unet.down_blocks[0], "attentions")
    return unet


def test_grown_unet_has_attention_at_both_levels_and_renders_the_same():
    unet = _plain_unet()
    grown = grow_unet(unet).eval()

    assert all(len(block.attentions) > 0 for block in grown.down_blocks)
    assert all(len(block.attentions) > 0 for block in grown.up_blocks)
    assert largest_difference(unet, grown) < 1e-5


@pytest.mark.slow
def test_the_new_attention_is_live_once_its_output_projection_moves():
    unet = _plain_unet()
    grown = grow_unet(unet).eval()
    with torch.no_grad():
        grown.down_blocks[0].attentions[0].proj_out.weight.fill_(0.05)

    assert largest_difference(unet, grown) > 1e-3


@pytest.mark.slow
def test_stage_3e_trains_the_grown_blocks_at_their_own_rate(tmp_path):
    torch.set_num_threads(min(2, torch.get_num_threads()))
    vae, init = load_released(BUNDLED)
    init["unet"] = grow_unet(_plain_unet())
    rng = np.random.default_rng(0)
    specs = [sample_training_spec(rng) for _ in range(8)]
    latents = np.random.default_rng(1).standard_normal((8, 24, C.LATENT_CHANNELS, 8, 8)).astype(np.float16)
    args = parse_args(["--batch", "4", "--checkpoint-every", "1", "--grown-lr-scale", "5"])
    recipe = replace(unet_recipe(args), steps=2, eval_every=2, eval_prompts=2, warmup=1)

    trained = train_diffusion(args, recipe, tmp_path, vae, LatentCache.from_full(latents, specs), init=init)

    groups = torch.load(tmp_path / "unet" / "checkpoint.pt", weights_only=False)["opt"]["param_groups"]
    assert [g["scale"] for g in groups] == [1.0, 5.0]
    assert groups[1]["lr"] == 5 * groups[0]["lr"] > 0
    new_projection = trained["unet"].down_blocks[0].attentions[0].proj_out.weight
    assert new_projection.abs().max() > 0


def test_plain_attention_renders_what_the_fused_kernel_renders():
    torch.manual_seed(0)
    unet = C.build_unet()
    with torch.no_grad():
        for p in unet.parameters():
            p.add_(0.02 * torch.randn_like(p))  # a fresh UNet's zeroed outputs would hide any difference
    x, t = torch.randn(2, C.LATENT_CHANNELS, 8, 8, 8), torch.tensor([10, 500])
    kwargs = {
        "encoder_hidden_states": torch.randn(16, C.MAX_TOKENS, C.TEXT_DIM),
        "added_cond_kwargs": {"text_embeds": torch.randn(2, C.TEXT_DIM), "time_ids": C.time_ids(2)},
    }
    with torch.no_grad():
        fused = unet(x, t, **kwargs).sample
        plain = C.use_plain_attention(unet)(x, t, **kwargs).sample
    assert fused.abs().mean() > 0.05
    assert torch.allclose(fused, plain, atol=1e-5)
    assert {type(p).__name__ for p in unet.attn_processors.values()} == {"AttnProcessor"}
