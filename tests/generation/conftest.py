from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def media_root(tmp_path, settings) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def render_worker(start_worker, render_model_dir, media_root):
    """Start a real render worker (gpu queue) that loads `render_model_dir` as the default model."""

    def start(name: str = "gpu", **env):
        return start_worker("gpu", name=name, CLIPCAST_MODEL_PATH=str(render_model_dir), MEDIA_ROOT=str(media_root),
                            CLIPCAST_WARM_MODEL="1", CLIPCAST_TORCH_THREADS="1", **env)

    return start


@pytest.fixture(scope="session")
def lora_bytes(tmp_path_factory) -> bytes:
    """A small LoRA for the bundled model (tests/generation/lora_files.py), built once per session."""
    from generation.engine import BUNDLED_PATH
    from tests.generation.lora_files import build_lora

    return build_lora(BUNDLED_PATH, tmp_path_factory.mktemp("brand-lora")).read_bytes()


@pytest.fixture
def lora_media(media_root, settings, tmp_path) -> Path:
    """Local media storage and this process's own LoRA cache folder (returned)."""
    settings.CLIPCAST_LORA_CACHE_DIR = tmp_path / "lora-cache"
    return settings.CLIPCAST_LORA_CACHE_DIR
