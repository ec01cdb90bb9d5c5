"""CLIPCAST_MODELS values that are hub ids: `manage.py fetch_model` fills the Hugging Face cache; clips and
`manage.py render` read it offline; a missing model says exactly what to run, never with a traceback."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from generation import engine, rendering
from generation.engine import probe_video
from generation.models import Clip, ClipStatus
from tests.factories import CampaignFactory
from tests.generation.hub_cache import put_in_hub_cache
from tests.generation.hub_server import HubServer
from tests.test_readme_commands import ROOT, bare_env

PROMPT = "a red circle moving left on a black background"
RUN_FETCH = "Run: python manage.py fetch_model ltx"


@pytest.fixture(scope="module")
def tiny_ltx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.generation.engine.conftest import build_ltx

    return build_ltx(tmp_path_factory.mktemp("ltx"))


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings) -> Path:
    """An empty Hugging Face cache (HF_HUB_CACHE) and `ltx` configured as a hub id, with the hub offline."""
    cache = tmp_path / "hub-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings.CLIPCAST_MODELS = {"ltx": "Lightricks/LTX-Video"}
    return cache


def fetch_model(*args: str) -> str:
    out = io.StringIO()
    call_command("fetch_model", *args, stdout=out)
    return out.getvalue()


def test_fetching_without_network_fails_with_a_sentence(hub_cache: Path) -> None:
    with pytest.raises(CommandError, match=r"^Cannot download Lightricks/LTX-Video: HF_HUB_OFFLINE is set.*"
                                           r"machine with network access\.$"):
        fetch_model("ltx")


def test_fetching_a_model_already_in_the_cache_says_so_offline(hub_cache: Path, tiny_ltx: Path) -> None:
    snapshot = put_in_hub_cache(tiny_ltx, hub_cache, "Lightricks/LTX-Video")
    assert fetch_model("ltx").strip() == (
        f"Model 'ltx' (Lightricks/LTX-Video) is already in the Hugging Face cache: {snapshot.resolve()}")
    assert "is already in the Hugging Face cache" in fetch_model("Lightricks/LTX-Video")


def test_fetching_a_local_folder_or_an_unknown_key_says_what_to_do(hub_cache: Path, settings, tiny_ltx) -> None:
    settings.CLIPCAST_MODELS = {"mine": str(tiny_ltx)}
    with pytest.raises(CommandError, match=r"Model 'mine' is the local folder .*nothing to download.*in "
                                           r"CLIPCAST_MODELS \(e.g. CLIPCAST_MODELS=mine=Lightricks/LTX-Video\)"):
        fetch_model("mine")
    # the default model is CLIPCAST_MODEL_PATH's (a CLIPCAST_MODELS entry named default is refused at start-up)
    with pytest.raises(CommandError, match=r"Model 'default' is the local folder .*nothing to download.*in "
                                           r"CLIPCAST_MODEL_PATH \(e.g. CLIPCAST_MODEL_PATH=Lightricks/LTX-Video\)"):
        fetch_model("default")
    with pytest.raises(CommandError, match=r"Unknown model 'ltx': use one of bundled, default, mine"):
        fetch_model("ltx")


def test_a_clip_of_a_model_not_fetched_is_refused_at_submission_naming_the_command(hub_cache: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        rendering.validate_render_params({"model_key": "ltx", "frames": 9, "width": 32, "height": 32})
    assert refused.value.messages[0].endswith(RUN_FETCH)


@pytest.mark.django_db
def test_a_worker_without_the_weights_fails_the_clip_naming_the_command(hub_cache: Path, media_root) -> None:
    clip = Clip.objects.create(campaign=CampaignFactory(), prompt=PROMPT, seed=0,
                               render_params={"model_key": "ltx", "frames": 9, "width": 32, "height": 32})
    assert rendering.run_render(clip.pk) == ClipStatus.FAILED
    clip.refresh_from_db()
    assert "Lightricks/LTX-Video" in clip.error and "never download" in clip.error and clip.error.endswith(RUN_FETCH)


@pytest.mark.django_db
def test_a_worker_renders_a_hub_model_from_the_cache_and_keeps_the_frames_note(
    hub_cache: Path, tiny_ltx: Path, media_root
) -> None:
    put_in_hub_cache(tiny_ltx, hub_cache, "Lightricks/LTX-Video")
    params = {"model_key": "ltx", "frames": 8, "fps": 8, "width": 32, "height": 32, "steps": 1,
              "output_width": 64, "output_height": 64}
    clip = Clip.objects.create(campaign=CampaignFactory(), prompt=PROMPT, seed=0, render_params=params)
    assert rendering.run_render(clip.pk) == ClipStatus.SUCCEEDED
    clip.refresh_from_db()
    assert clip.model_id.startswith("Lightricks/LTX-Video@sha256:")
    assert probe_video(media_root / clip.video.name).frames == 9
    assert clip.frames_note["frames_requested"] == 8 and clip.frames_note["frames_rendered"] == 9
    assert clip.frames_note["notes"][0].startswith("8 frames were asked for")


def test_the_render_command_renders_a_hub_model_from_the_cache(hub_cache: Path, tiny_ltx: Path, tmp_path) -> None:
    put_in_hub_cache(tiny_ltx, hub_cache, "Lightricks/LTX-Video")
    out = io.StringIO()
    call_command("render", PROMPT, "--model", "ltx", "--frames", "9", "--fps", "8", "--size", "32x32", "--steps", "1",
                 "--output", str(tmp_path / "ltx.mp4"), "--no-progress", "--device", "cpu", stdout=out)
    assert probe_video(tmp_path / "ltx.mp4").frames == 9


def test_a_worker_whose_default_model_is_not_fetched_starts_and_logs_the_command(
    hub_cache: Path, settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CLIPCAST_MODEL_PATH = "Lightricks/LTX-Video"
    rendering.warm_worker()
    assert caplog.messages[-1].startswith("render.worker_not_warm reason=Model 'default' (Lightricks/LTX-Video)")
    assert caplog.messages[-1].endswith("Run: python manage.py fetch_model default")


def readme_fetch_commands() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("A model may be named by its Hugging Face hub id"):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
@pytest.mark.parametrize("cached", [True, False])
def test_the_readmes_fetch_commands_work_as_typed_offline(cached: bool, tmp_path: Path, tiny_ltx: Path) -> None:
    # As a user types them in a fresh checkout: with the model in the cache they say so; without it, and with no
    # network, they fail with one sentence (manage.py's CommandError line), never a traceback.
    commands = readme_fetch_commands()
    assert "CLIPCAST_MODELS=ltx=Lightricks/LTX-Video" in commands and "manage.py fetch_model ltx" in commands
    cache = tmp_path / "hub-cache"
    if cached:
        put_in_hub_cache(tiny_ltx, cache, "Lightricks/LTX-Video")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "manage.py").symlink_to(ROOT / "manage.py")
    env = {**bare_env(tmp_path), "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(["bash", "-c", "set -e\n" + commands], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    if cached:
        assert result.returncode == 0, output[-3000:]
        assert "Model 'ltx' (Lightricks/LTX-Video) is already in the Hugging Face cache" in result.stdout
    else:
        assert result.returncode != 0
        assert "CommandError: Cannot download Lightricks/LTX-Video: HF_HUB_OFFLINE is set" in result.stderr, output


@pytest.mark.slow
def test_the_readmes_fetch_commands_download_in_a_fresh_shell_that_never_set_hf_hub_offline(
    tmp_path: Path, tiny_ltx: Path
) -> None:
    # A user's shell has no HF_HUB_OFFLINE: the settings make every other process offline, but fetch_model is the
    # one that must reach the hub (here a local one, HF_ENDPOINT) and download.
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "manage.py").symlink_to(ROOT / "manage.py")
    env = {k: v for k, v in bare_env(tmp_path).items() if k != "HF_HUB_OFFLINE"}
    env["HF_HUB_CACHE"] = str(tmp_path / "hub-cache")
    with HubServer({"Lightricks/LTX-Video": tiny_ltx}) as hub:
        env["HF_ENDPOINT"] = hub.url
        result = subprocess.run(["bash", "-c", "set -e\n" + readme_fetch_commands()], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Model 'ltx' (Lightricks/LTX-Video) is ready" in result.stdout, output[-3000:]
    assert "model_index.json" in hub.served


@pytest.mark.slow
def test_the_readmes_fetch_commands_without_a_network_fail_in_one_sentence(tmp_path: Path) -> None:
    # Nothing listens at the hub's address (the hub client retries for ~25 s first): its connection error, from
    # whichever HTTP client huggingface_hub uses (httpx2 today), reads as a CommandError line, not a traceback.
    from tests.test_readme_commands import free_port

    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "manage.py").symlink_to(ROOT / "manage.py")
    env = {k: v for k, v in bare_env(tmp_path).items() if k != "HF_HUB_OFFLINE"}
    env.update(HF_HUB_CACHE=str(tmp_path / "hub-cache"), HF_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    result = subprocess.run(["bash", "-c", "set -e\n" + readme_fetch_commands()], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert "CommandError: Downloading Lightricks/LTX-Video failed: cannot reach the Hugging Face hub" in output, \
        output[-3000:]


def run_fetch_model(model: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "fetch_model", model], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "DEBUG": "1", **env})


@pytest.mark.slow
def test_fetch_model_downloads_what_the_pipeline_loads_and_workers_then_render_it_offline(
    tiny_ltx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    # Given a hub repository laid out like Lightricks/LTX-Video: diffusers folders, plus a root checkpoint and an
    # fp16 variant that a pipeline never loads
    repo = tmp_path / "repo"
    shutil.copytree(tiny_ltx, repo)
    (repo / "ltx-video-2b-v0.9.safetensors").write_bytes(b"\0" * 4096)
    shutil.copy(repo / "transformer" / "diffusion_pytorch_model.safetensors",
                repo / "transformer" / "diffusion_pytorch_model.fp16.safetensors")
    cache = tmp_path / "hub-cache"
    env = {"HF_ENDPOINT": "", "HF_HUB_OFFLINE": "0", "HF_HUB_CACHE": str(cache),
           "CLIPCAST_MODELS": "ltx=Lightricks/LTX-Video,gone=Nobody/Nothing"}
    with HubServer({"Lightricks/LTX-Video": repo}) as hub:
        env["HF_ENDPOINT"] = hub.url
        # When the operator fetches it
        fetched = run_fetch_model("ltx", env)
        assert fetched.returncode == 0, fetched.stderr[-3000:]
        assert "Model 'ltx' (Lightricks/LTX-Video) is ready" in fetched.stdout
        # Then only what the pipeline loads came over, and a second run downloads nothing
        assert set(hub.served) == {"model_index.json", *(
            str(p.relative_to(tiny_ltx)) for p in tiny_ltx.rglob("*") if p.is_file() and p.name != "clipcast.json")}
        assert max(hub.served.values()) == 1
        again = run_fetch_model("ltx", env)
        assert "is already in the Hugging Face cache" in again.stdout and max(hub.served.values()) == 1
        missing = run_fetch_model("gone", env)
        assert missing.returncode == 1 and "Traceback" not in missing.stderr
        assert "Nobody/Nothing does not exist on the Hugging Face hub (or is private)" in missing.stderr

    # And a worker with no network renders it from the cache
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    settings.CLIPCAST_MODELS = {"ltx": "Lightricks/LTX-Video"}
    request = engine.RenderRequest(prompt=PROMPT, seed=0, num_frames=9, fps=8, width=32, height=32, steps=1,
                                   model="ltx")
    result = engine.render(request, registry=rendering.registry(), device=engine.choose_device("cpu", "fp32"),
                           cache=engine.PipelineCache(capacity=1))
    assert result.frames.shape == (9, 32, 32, 3) and result.model_id.startswith("Lightricks/LTX-Video@")
