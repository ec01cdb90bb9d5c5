from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

BUNDLED = Path(__file__).resolve().parents[2] / "generation" / "bundled"


@pytest.fixture(scope="module")
def pipe():
    """The committed model, loaded offline with plain diffusers (tests must not change its weights)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    torch.set_num_threads(min(2, torch.get_num_threads()))
    from diffusers import DiffusionPipeline

    pipeline = DiffusionPipeline.from_pretrained(BUNDLED)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline
