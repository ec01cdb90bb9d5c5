"""The sampling-depth probe (training/experiments/probe.py) on the committed model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from training.experiments.probe import probe_specs, reconstruction_by_pair, shape_by_start

BUNDLED = Path(__file__).resolve().parents[2] / "generation" / "bundled"


def test_probe_specs_vary_size_and_position_over_the_held_out_prompts():
    specs = probe_specs(5)
    assert len(specs) == 108
    assert len({s.size for s in specs}) == 108 and len({s.offset for s in specs}) == 108
    assert probe_specs(5) == specs and probe_specs(6) != specs


@pytest.mark.slow
def test_a_late_start_keeps_an_almost_finished_clip_and_an_early_one_is_a_render():
    os.environ["HF_HUB_OFFLINE"] = "1"
    torch.set_num_threads(min(2, torch.get_num_threads()))
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(BUNDLED)
    specs = probe_specs(5)[::18]  # one per (pair, shape) block: 6 clips, every pair once
    rows = shape_by_start(pipe, specs, starts=[0, 19], guidance=2.0, batch=6)
    by_start = {row["start"]: row for row in rows}
    assert by_start["reconstruction"]["timestep"] is None
    assert by_start[19]["timestep"] < 100 < 900 < by_start[0]["timestep"]
    assert by_start["reconstruction"]["joint"] >= 5 / 6
    assert by_start[19]["joint"] >= 5 / 6  # the last step cleans up: it must not destroy a finished clip
    assert by_start[0]["joint"] >= 3 / 6  # from (nearly) pure noise it renders the prompt, as the pipeline does


@pytest.mark.slow
def test_the_pair_probe_reads_each_shape_through_the_autoencoder_and_jitter_can_break_it():
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(BUNDLED / "vae")
    pairs = [("red", "white"), ("blue", "black")]
    gentle = reconstruction_by_pair(vae, pairs, clips=4, jitter=0.1)
    assert set(gentle) == set(pairs)
    assert all(set(by_shape) == {"circle", "square", "triangle"} for by_shape in gentle.values())
    assert all(plain >= 0.75 for by_shape in gentle.values() for plain, _ in by_shape.values())
    broken = reconstruction_by_pair(vae, pairs, clips=4, jitter=3.0)  # latents buried in noise
    assert sum(jittered for by_shape in broken.values() for _, jittered in by_shape.values()) < 3
