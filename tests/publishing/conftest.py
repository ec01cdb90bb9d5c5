"""The X sandbox on 127.0.0.1 and tiny real MP4 files, for the X client tests and the publishing glue tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import imageio_ffmpeg
import pytest

from publishing.sandbox import Config, SandboxServer, make_server
from tests.publishing.x.sandbox_control import SandboxControl


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    db = tmp_path_factory.mktemp("x_sandbox") / "sandbox.sqlite3"
    server = make_server("127.0.0.1", 0, db, Config(processing_secs=0.3))
    server.start_in_thread()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxControl]:
    control = SandboxControl(sandbox_server)
    defaults = dict(sandbox_server.sandbox.config.as_dict())
    yield control
    sandbox_server.sandbox.config.update(defaults)
    control.reset_audience()


def _encode(path: Path, *args: str) -> Path:
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", *args, str(path)],
                   check=True, timeout=60)
    return path


@pytest.fixture(scope="session")
def make_video(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """make_video(seconds=1.0, codec="libx264", size="64x64") -> a real MP4 file, cached per arguments."""
    folder = tmp_path_factory.mktemp("videos")
    cache: dict[tuple[float, str, str], Path] = {}

    def make(seconds: float = 1.0, codec: str = "libx264", size: str = "64x64") -> Path:
        key = (seconds, codec, size)
        if key not in cache:
            extra = ["-pix_fmt", "yuv420p"] if codec == "libx264" else []
            cache[key] = _encode(folder / f"clip-{seconds}-{codec}-{size}.mp4", "-i",
                                 f"testsrc=size={size}:rate=10", "-t", str(seconds), "-c:v", codec, *extra,
                                 "-movflags", "+faststart")
        return cache[key]

    return make
