"""A real X sandbox on 127.0.0.1 for the X client tests, fresh accounts, and tiny real MP4 files."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
import requests

from publishing.sandbox import Config, SandboxServer, make_server
from publishing.x import OAuth1Credentials, XClient


class SandboxControl:
    """The sandbox's control endpoints, as a test uses them."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.url = server.url
        self.http = requests.Session()

    def create_account(self, **fields: Any) -> dict[str, Any]:
        response = self.http.post(f"{self.url}/_sandbox/accounts", json=fields, timeout=5)
        response.raise_for_status()
        return response.json()

    def fault(self, user_id: str, kind: str, **fields: Any) -> None:
        response = self.http.post(f"{self.url}/_sandbox/faults", json={"user_id": user_id, "kind": kind, **fields},
                                  timeout=5)
        response.raise_for_status()

    def posts(self, user_id: str | None = None, include_deleted: bool = False) -> list[dict[str, Any]]:
        params = {"user_id": user_id or "", "include_deleted": "1" if include_deleted else "0"}
        return self.http.get(f"{self.url}/_sandbox/posts", params=params, timeout=5).json()["posts"]

    def configure(self, **values: Any) -> dict[str, Any]:
        response = self.http.post(f"{self.url}/_sandbox/config", json=values, timeout=5)
        response.raise_for_status()
        return response.json()

    def client(self, account: dict[str, Any], **kwargs: Any) -> XClient:
        kwargs.setdefault("timeout", 5.0)
        return XClient(oauth1=oauth1_of(account), api_base_url=self.url, upload_base_url=self.url, **kwargs)


def oauth1_of(account: dict[str, Any], **override: str) -> OAuth1Credentials:
    values = {k: account[k] for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")}
    values.update(override)
    return OAuth1Credentials(**values)


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


@pytest.fixture
def account(sandbox: SandboxControl) -> dict[str, Any]:
    return sandbox.create_account()


@pytest.fixture
def client(sandbox: SandboxControl, account: dict[str, Any]) -> XClient:
    return sandbox.client(account)


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
