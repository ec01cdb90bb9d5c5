"""Weight averaging of fine-tunes that share a start (training/experiments/soup.py)."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from training import components as C
from training.cache import LatentCache
from training.data import sample_training_spec
from training.diffusion import load_released, train_diffusion, unet_recipe
from training.experiments.soup import average, main, soup_folders, soup_snapshots

BUNDLED = Path(__file__).resolve().parents[2] / "generation" / "bundled"


def test_average_is_the_weighted_mean_of_float_tensors_and_keeps_the_first_integer_ones():
    a = {"w": torch.tensor([0.0, 4.0]), "n": torch.tensor([1])}
    b = {"w": torch.tensor([2.0, 8.0]), "n": torch.tensor([7])}
    assert torch.allclose(average([a, b])["w"], torch.tensor([1.0, 6.0]))
    mixed = average([a, b], weights=[3, 1])
    assert torch.allclose(mixed["w"], torch.tensor([0.5, 5.0]))
    assert mixed["n"].tolist() == [1]


@pytest.mark.parametrize(
    "other, message",
    [({"w": torch.zeros(2), "extra": torch.zeros(1)}, "other tensors"), ({"w": torch.zeros(3)}, "differs in shape")],
)
def test_models_of_another_architecture_are_refused(other, message):
    with pytest.raises(ValueError, match=message):
        average([{"w": torch.zeros(2)}, other])


def test_weights_must_match_the_models():
    with pytest.raises(ValueError, match="2 weights for 3 models"):
        average([{"w": torch.zeros(1)}] * 3, weights=[1, 1])


def _folder(root: Path, value: float) -> Path:
    (root / "unet").mkdir(parents=True)
    save_file({"w": torch.full((2, 2), value)}, root / "unet" / "model.safetensors")
    (root / "unet" / "config.json").write_text(json.dumps({"value": value}))
    return root


def test_folders_average_file_by_file_and_keep_the_first_folders_other_files(tmp_path):
    a, b = _folder(tmp_path / "a", 1.0), _folder(tmp_path / "b", 3.0)
    main(["--out", str(tmp_path / "soup"), str(a), str(b), "--weights", "1", "3"])
    assert torch.allclose(load_file(tmp_path / "soup" / "unet" / "model.safetensors")["w"], torch.full((2, 2), 2.5))
    assert json.loads((tmp_path / "soup" / "unet" / "config.json").read_text()) == {"value": 1.0}


def test_a_folder_without_one_of_the_weight_files_is_refused(tmp_path):
    a, b = _folder(tmp_path / "a", 1.0), _folder(tmp_path / "b", 3.0)
    (b / "unet" / "model.safetensors").unlink()
    with pytest.raises(ValueError, match="missing"):
        soup_folders([a, b], tmp_path / "soup")


@pytest.mark.slow
def test_snapshots_kept_by_a_stage_average_into_a_loadable_folder(tmp_path):
    from diffusers import DiffusionPipeline

    from training.train import parse_args

    torch.set_num_threads(min(2, torch.get_num_threads()))
    vae, init = load_released(BUNDLED)
    rng = np.random.default_rng(0)
    specs = [sample_training_spec(rng) for _ in range(8)]
    latents = np.random.default_rng(1).standard_normal((8, 24, C.LATENT_CHANNELS, 8, 8)).astype(np.float16)
    args: argparse.Namespace = parse_args(["--keep-snapshots", "--batch", "2"])
    recipe = replace(unet_recipe(args), steps=2, eval_every=1, eval_prompts=2, warmup=1, lr=1e-2)
    train_diffusion(args, recipe, tmp_path / "work", vae, LatentCache.from_full(latents, specs), init=init)
    snapshots = sorted((tmp_path / "work" / "unet").glob("ema-*.pt"))
    assert [s.name for s in snapshots] == ["ema-00001.pt", "ema-00002.pt"]

    states = [torch.load(s, weights_only=True) for s in snapshots]
    key = next(k for k in states[0] if k.startswith("unet.") and not torch.equal(states[0][k], states[1][k]))
    soup_snapshots(BUNDLED, snapshots, tmp_path / "soup")
    pipe = DiffusionPipeline.from_pretrained(tmp_path / "soup")
    souped = pipe.unet.state_dict()[key.removeprefix("unet.")]
    assert torch.allclose(souped, (states[0][key] + states[1][key]) / 2, atol=1e-6)
    assert (tmp_path / "soup" / "clipcast.json").read_text() == (BUNDLED / "clipcast.json").read_text()
