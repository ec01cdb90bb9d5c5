"""A Hotshot-XL folder, named in CLIPCAST_MODELS, renders through `manage.py render` and through a real render
worker (Redis + PostgreSQL), loaded natively from its original layout (tests/generation/engine/hotshot_checkpoint.py
builds it; its docstring says what is scaled down)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from generation.engine import probe_video
from generation.models import ClipStatus
from tests.generation.engine.hotshot_checkpoint import build_hotshot_xl
from tests.generation.test_render_worker import decode, make_template, submit, wait_for

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "a red circle moving left on a black background"


@pytest.fixture(scope="session")
def hotshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_hotshot_xl(tmp_path_factory.mktemp("hotshot-xl"))


@pytest.mark.slow
def test_manage_py_render_renders_a_hotshot_folder_named_in_clipcast_models(hotshot_dir: Path, tmp_path: Path):
    env = {**os.environ, "CLIPCAST_MODELS": f"hotshot={hotshot_dir}", "DEBUG": "1", "CLIPCAST_TORCH_THREADS": "1"}
    out = tmp_path / "hotshot.mp4"
    done = subprocess.run(
        [sys.executable, "manage.py", "render", PROMPT, "--model", "hotshot", "--size", "64x64", "--steps", "2",
         "--output-size", "128x128", "--output", str(out), "--no-progress"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Clipcast loads it natively" in done.stdout  # the user is told which path the folder takes
    video = probe_video(out)
    # No --frames or --fps: Hotshot-XL's native clip, 8 frames at 8 fps.
    assert (video.codec, video.frames, video.fps, video.width, video.height) == ("h264", 8, 8.0, 128, 128)


@pytest.mark.integration
@pytest.mark.slow
def test_a_render_worker_renders_a_hotshot_clip(start_worker, hotshot_dir: Path, media_root: Path, settings):
    settings.CLIPCAST_MODELS = {"hotshot": str(hotshot_dir)}  # the web side validates against the same folder
    start_worker("gpu", name="gpu-hotshot", CLIPCAST_MODELS=f"hotshot={hotshot_dir}", MEDIA_ROOT=str(media_root),
                 CLIPCAST_TORCH_THREADS="1")
    template = make_template(output_width=128, output_height=128)
    template.campaign.model_key = "hotshot"
    template.campaign.save()
    clip = wait_for(submit(template, steps=2), {ClipStatus.SUCCEEDED, ClipStatus.FAILED})
    assert clip.status == ClipStatus.SUCCEEDED, clip.error
    frames, (codec, pix_fmt, rate) = decode(media_root / clip.video.name)
    assert (codec, pix_fmt, int(rate)) == ("h264", "yuv420p", 8)
    assert frames.shape == (8, 128, 128, 3)
    assert clip.model_id.startswith(f"{hotshot_dir.name}@sha256:") and clip.device.startswith("cpu")
