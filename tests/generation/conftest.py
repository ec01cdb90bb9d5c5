from __future__ import annotations

from pathlib import Path

import pytest

from generation.engine import BUNDLED_PATH


@pytest.fixture(scope="session")
def render_model_dir(tmp_path_factory) -> Path:
    """The bundled model; until it is trained and committed, a tiny random AnimateDiff folder of the same kind."""
    if (BUNDLED_PATH / "model_index.json").exists():
        return BUNDLED_PATH
    from tests.generation.engine.conftest import build_animatediff

    return build_animatediff(tmp_path_factory.mktemp("tiny-animatediff"))


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
