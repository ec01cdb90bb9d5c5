"""The losses of the diffusion stages (training/objectives.py) and the fine-tune stage that uses them."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from training import components as C
from training.cache import LatentCache
from training.data import COLOUR_NAMES, MOTIONS, SHAPES, ClipSpec, render_clip, sample_training_spec
from training.diffusion import Recipe, finetune_recipe, load_released, train_diffusion
from training.objectives import SlotHeads, shape_footprint, shape_loss_weight, slot_labels, v_loss_weight

BUNDLED = Path(__file__).resolve().parents[2] / "generation" / "bundled"


def test_slot_labels_index_each_slot_in_its_own_vocabulary():
    spec = ClipSpec(colour="cyan", shape="triangle", motion="moving up", background="black")
    labels = slot_labels([spec])
    assert labels.tolist() == [
        [COLOUR_NAMES.index("cyan"), SHAPES.index("triangle"), MOTIONS.index("moving up"), COLOUR_NAMES.index("black")]
    ]


def test_slot_heads_learn_to_read_slots_from_separable_embeddings():
    rng = np.random.default_rng(0)
    specs = [sample_training_spec(rng) for _ in range(256)]
    labels = slot_labels(specs)
    torch.manual_seed(0)
    codebook = torch.randn(4, 8, 16)  # one random direction per (slot, value): a linearly separable embedding
    pooled = sum(codebook[i, labels[:, i]] for i in range(4))
    heads = SlotHeads(16)
    before = heads.accuracy(pooled, labels)
    opt = torch.optim.Adam(heads.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        heads.loss(pooled, labels).backward()
        opt.step()
    assert before < 0.6
    assert heads.accuracy(pooled, labels) > 0.95


def test_slot_loss_is_the_sum_of_four_cross_entropies():
    heads = SlotHeads(16)
    torch.nn.init.zeros_(heads.linear.weight)
    torch.nn.init.zeros_(heads.linear.bias)
    labels = slot_labels([ClipSpec(colour="red", shape="circle", motion="growing", background="blue")])
    uniform = float(np.log(8) + np.log(3) + np.log(6) + np.log(8))
    assert heads.loss(torch.randn(1, 16), labels).item() == pytest.approx(uniform, rel=1e-5)


def test_the_x0_floor_raises_only_the_noisy_steps():
    snr = torch.tensor([0.01, 0.5, 1.0, 4.0, 50.0])
    plain = v_loss_weight(snr)
    floored = v_loss_weight(snr, x0_floor=1.0)
    assert torch.allclose(plain, snr.clamp(max=5) / (snr + 1))
    assert floored[0] > 50 * plain[0]  # nearly pure noise: from ~0.01 to ~1
    assert torch.allclose(floored[2:], plain[2:])  # snr >= 1: the floor does not bind


@pytest.mark.parametrize("motion", ["moving left", "moving down", "growing", "shrinking"])
def test_the_shape_footprint_covers_the_drawn_shape_and_one_latent_pixel_around_it(motion):
    spec = ClipSpec(colour="red", shape="triangle", motion=motion, background="white", offset=0.3)
    clip = render_clip(spec, 24)
    drawn = (clip != clip[:, :1, :1]).any(-1).reshape(24, 8, 8, 8, 8).any(axis=(2, 4))  # latent cells with shape
    footprint = shape_footprint(spec, 24)
    assert footprint.shape == (24, 8, 8)
    assert (footprint >= drawn).all()  # every touched cell is weighted
    assert (footprint.sum(axis=(1, 2)) > drawn.sum(axis=(1, 2))).all()  # and the rim around it
    assert (footprint.sum(axis=(1, 2)) < 64).all()  # but not the whole frame
    ring = [np.roll(np.roll(drawn, a, 1), b, 2) for a in (-1, 0, 1) for b in (-1, 0, 1)]
    assert not (footprint & ~np.logical_or.reduce(ring)).any()  # nothing beyond one cell from the shape


def test_the_shape_loss_weight_is_one_on_the_background_and_higher_on_the_shape():
    specs = [ClipSpec(colour="blue", shape="square", motion="moving up", background="black", offset=0.0)] * 2
    weight = shape_loss_weight(specs, 8, shape_weight=4.0)
    assert weight.shape == (2, 1, 8, 8, 8)
    assert set(weight.unique().tolist()) == {1.0, 5.0}
    assert weight[0, 0, 0, :, 7].eq(1.0).all()  # offset 0: the shape runs up the left edge, the right column is bare


def test_the_fine_tune_rate_warms_up_holds_then_decays_to_a_tenth():
    recipe = finetune_recipe(_args(finetune_steps=1000))
    assert recipe.lr_at(0) == pytest.approx(recipe.lr / 50)
    assert recipe.lr_at(100) == recipe.lr_at(500) == recipe.lr
    assert recipe.lr_at(750) < recipe.lr
    assert recipe.lr_at(1000) == pytest.approx(recipe.lr * 0.1)


@pytest.mark.slow
def test_a_short_fine_tune_moves_the_text_encoder_resumes_and_releases_no_slot_head(tmp_path):
    torch.set_num_threads(min(2, torch.get_num_threads()))
    vae, init = load_released(BUNDLED)
    before = {k: v.clone() for k, v in init["text"].state_dict().items()}
    rng = np.random.default_rng(0)
    specs = [sample_training_spec(rng) for _ in range(16)]
    latents = np.random.default_rng(1).standard_normal((16, 24, C.LATENT_CHANNELS, 8, 8)).astype(np.float16)
    args = _args(batch=4, checkpoint_every=1)
    recipe = replace(finetune_recipe(args), steps=2, eval_every=2, eval_prompts=2, warmup=1)
    trained = train_diffusion(args, recipe, tmp_path, vae, LatentCache.from_full(latents, specs), init=init)
    after = trained["text"].state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert not any("slots" in k for k in trained["unet"].state_dict())

    saved = torch.load(tmp_path / "finetune" / "checkpoint.pt", weights_only=False)
    assert saved["state"]["step"] == 2
    assert any(k.startswith("slots.") for k in saved["modules"])  # the head trains and resumes with the rest
    _, init = load_released(BUNDLED)
    args.resume = True
    train_diffusion(args, replace(recipe, steps=3), tmp_path, vae, LatentCache.from_full(latents, specs), init=init)
    events = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert {"event": "resumed", "stage": "finetune", "step": 2}.items() <= next(
        e for e in events if e["event"] == "resumed"
    ).items()
    assert torch.load(tmp_path / "finetune" / "checkpoint.pt", weights_only=False)["state"]["step"] == 3


def _args(**overrides: object) -> argparse.Namespace:
    from training.train import parse_args

    args = parse_args([])
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


def test_stage_three_carries_the_slot_loss_from_the_start_unless_the_text_is_frozen():
    from training.diffusion import base_recipe

    base = base_recipe(_args())
    assert isinstance(base, Recipe)
    assert base.slot_weight == 1.0 and base.x0_floor == 0 and base.decay_from == 0
    assert base_recipe(_args(base_slot_weight=0.0)).slot_weight == 0
    assert base_recipe(_args(base_x0_floor=1.0)).x0_floor == 1.0
    assert base_recipe(_args(freeze_text=True)).slot_weight == 0  # no head to train a frozen encoder through


@pytest.mark.slow
def test_a_fresh_wider_unet_trains_beside_a_frozen_released_text_encoder(tmp_path):
    from training.diffusion import base_recipe

    torch.set_num_threads(min(2, torch.get_num_threads()))
    vae, kept = load_released(BUNDLED)
    kept["unet"] = None
    before = {k: v.clone() for k, v in kept["text"].state_dict().items()}
    rng = np.random.default_rng(0)
    specs = [sample_training_spec(rng) for _ in range(16)]
    latents = np.random.default_rng(1).standard_normal((16, 24, C.LATENT_CHANNELS, 8, 8)).astype(np.float16)
    args = _args(batch=4, checkpoint_every=1, unet_channels=[48, 96], freeze_text=True)
    recipe = replace(base_recipe(args), steps=2, eval_every=2, eval_prompts=2, warmup=1)
    assert recipe.train_text is False
    trained = train_diffusion(args, recipe, tmp_path, vae, LatentCache.from_full(latents, specs), init=kept)
    assert tuple(trained["unet"].config.block_out_channels) == (48, 96)
    after = trained["text"].state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert not any(k.startswith("slots.") for k in saved["modules"])


def test_stage_3e_trains_the_unet_alone_on_the_floored_denoising_loss():
    from training.diffusion import unet_recipe

    args = _args(unet_steps=1200, unet_lr=1e-4)
    recipe = unet_recipe(args)
    assert (recipe.name, recipe.steps, recipe.lr) == ("unet", 1200, 1e-4)
    assert recipe.train_text is False and recipe.slot_weight == 0
    assert recipe.x0_floor == finetune_recipe(args).x0_floor > 0
    assert recipe.seed not in {finetune_recipe(args).seed, args.seed}  # its own batches, not 3b's again


@pytest.mark.slow
@pytest.mark.parametrize("keep_last", [False, True])
def test_a_finished_stage_hands_on_its_best_scored_weights_or_its_last_when_asked(tmp_path, keep_last):
    from training.diffusion import base_recipe

    torch.set_num_threads(min(2, torch.get_num_threads()))
    vae, kept = load_released(BUNDLED)
    kept["unet"] = None
    rng = np.random.default_rng(0)
    specs = [sample_training_spec(rng) for _ in range(8)]
    latents = np.random.default_rng(1).standard_normal((8, 24, C.LATENT_CHANNELS, 8, 8)).astype(np.float16)
    cache = LatentCache.from_full(latents, specs)
    args = _args(batch=2, checkpoint_every=1, unet_channels=[48, 96], freeze_text=True)
    recipe = replace(base_recipe(args), steps=1, eval_every=1, eval_prompts=2, warmup=1, keep_last=keep_last)
    train_diffusion(args, recipe, tmp_path, vae, cache, init=dict(kept))
    last = torch.load(tmp_path / "checkpoint.pt", weights_only=False)["ema"]
    # An earlier step that scored higher: the same weights with the UNet's output layer zeroed.
    scored = {k: torch.zeros_like(v) if k.startswith("unet.conv_out") else v for k, v in last.items()}
    torch.save({"ema": scored, "step": 0, "rates": {"joint": 1.0}}, tmp_path / "best.pt")

    args.resume = True  # the stage is finished: no step runs, only the hand-over
    handed = train_diffusion(args, recipe, tmp_path, vae, cache, init=dict(kept))
    expected = last if keep_last else scored
    assert handed["best"]["step"] == (1 if keep_last else 0)
    assert torch.equal(handed["unet"].conv_out.weight, expected["unet.conv_out.weight"])
    other = scored if keep_last else last
    assert not torch.equal(handed["unet"].conv_out.weight, other["unet.conv_out.weight"])
