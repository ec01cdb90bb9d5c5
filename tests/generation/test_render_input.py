"""Bad render input is refused at submission with a clear message, and nothing is left queued or rendering."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from generation import services
from generation.models import Clip, ClipStatus
from tests.factories import PromptTemplateFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture
def template(render_model_dir, settings, tmp_path):
    settings.CLIPCAST_MODEL_PATH = str(render_model_dir)
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "model_index.json").write_text(json.dumps({"_class_name": "AnimateDiffPipeline", "unet": [
        "diffusers", "UNetMotionModel"]}))
    settings.CLIPCAST_MODELS = {"broken": str(broken)}
    return PromptTemplateFactory(body="{p}", variables={"p": ["a red circle moving left on a black background", " "]})


ROW = [{"p": "a red circle moving left on a black background"}]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"frames": 0}, "Frames must be"),
        ({"frames": 10_000}, "this model's limit"),
        ({"width": 63}, "multiple"),
        ({"steps": 0}, "Steps"),
        ({"steps": 1000}, "Steps"),
        ({"model_key": "nope"}, "Unknown model 'nope'"),
        ({"model_key": "/etc"}, "Unknown model"),
        ({"model_key": "broken"}, "unet"),
    ],
)
def test_bad_settings_are_refused_before_any_clip_exists(template, params, message):
    with pytest.raises(ValidationError) as info:
        services.create_clips(template, ROW, params=params)
    assert message in " ".join(info.value.messages)
    assert not Clip.objects.exists()


def test_an_empty_prompt_is_refused(template):
    with pytest.raises(ValidationError, match="empty"):
        services.create_clips(template, [{"p": " "}])
    assert not Clip.objects.exists()


def test_a_clip_that_slipped_past_validation_fails_with_a_reason_on_the_worker(template):
    from generation.rendering import run_render

    clip = Clip.objects.create(campaign=template.campaign, prompt="x", seed=1, render_params={"frames": -3})
    assert run_render(clip.pk) == ClipStatus.FAILED
    clip.refresh_from_db()
    assert clip.status == ClipStatus.FAILED
    assert "Frames must be" in clip.error


def test_the_reaper_requeues_silent_renders_and_fails_them_after_three_attempts(template,
                                                                                 django_capture_on_commit_callbacks):
    old = timezone.now() - timedelta(minutes=30)
    silent = Clip.objects.create(campaign=template.campaign, prompt="x", seed=1, status=ClipStatus.RENDERING,
                                 heartbeat_at=old, attempts=1, worker="elsewhere:1")
    hopeless = Clip.objects.create(campaign=template.campaign, prompt="y", seed=2, status=ClipStatus.RENDERING,
                                   heartbeat_at=old, attempts=3, worker="elsewhere:2")
    alive = Clip.objects.create(campaign=template.campaign, prompt="z", seed=3, status=ClipStatus.RENDERING,
                                heartbeat_at=timezone.now(), attempts=1, worker="elsewhere:3")
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.reap_stuck_clips(timedelta(minutes=5)) == {"requeued": 1, "failed": 1, "resent": 0}
    assert len(callbacks) == 1
    statuses = dict(Clip.objects.values_list("pk", "status"))
    assert statuses == {silent.pk: ClipStatus.QUEUED, hopeless.pk: ClipStatus.FAILED, alive.pk: ClipStatus.RENDERING}
    assert "stopped responding 3 times" in Clip.objects.get(pk=hopeless.pk).error


def test_a_process_takes_back_a_clip_its_own_cut_short_attempt_left_rendering(template):
    """A render that lost the database mid-way is retried by the same process: it must not wait for the reaper."""
    from generation.rendering import claim, worker_identity

    me = worker_identity()
    mine = Clip.objects.create(campaign=template.campaign, prompt="x", seed=1, status=ClipStatus.RENDERING,
                               worker=me, attempts=1, heartbeat_at=timezone.now())
    other = Clip.objects.create(campaign=template.campaign, prompt="y", seed=2, status=ClipStatus.RENDERING,
                                worker="elsewhere:1", attempts=1, heartbeat_at=timezone.now())
    assert claim(mine.pk, me)
    assert not claim(other.pk, me), "a live clip of another host waits for the reaper"
    mine.refresh_from_db()
    assert (mine.status, mine.worker, mine.attempts) == (ClipStatus.RENDERING, me, 2)


def test_the_reaper_sends_again_the_message_of_a_clip_queued_too_long(template, django_capture_on_commit_callbacks):
    """A broker restart without persistence loses queued messages: the clip must not wait forever."""
    old = timezone.now() - timedelta(hours=1)
    lost = Clip.objects.create(campaign=template.campaign, prompt="x", seed=1, enqueued_at=old)
    fresh = Clip.objects.create(campaign=template.campaign, prompt="y", seed=2, enqueued_at=timezone.now())
    done = Clip.objects.create(campaign=template.campaign, prompt="z", seed=3, enqueued_at=old,
                               status=ClipStatus.SUCCEEDED)
    assert services.reap_stuck_clips(queue_age=timedelta(minutes=30))["resent"] == 1
    lost.refresh_from_db()
    assert lost.enqueued_at > old, "the resent message must restart the clock, or every sweep would resend it"
    assert services.reap_stuck_clips(queue_age=timedelta(minutes=30))["resent"] == 0
    assert Clip.objects.get(pk=fresh.pk).status == Clip.objects.get(pk=lost.pk).status == ClipStatus.QUEUED
    assert Clip.objects.get(pk=done.pk).status == ClipStatus.SUCCEEDED


@pytest.mark.slow
def test_the_render_cli_writes_an_mp4_and_explains_bad_input(render_model_dir, tmp_path):
    env_model = {"CLIPCAST_MODEL_PATH": str(render_model_dir), "DEBUG": "1"}
    import os

    env = {**os.environ, **env_model}
    out = tmp_path / "out.mp4"
    ok = subprocess.run(
        [sys.executable, "manage.py", "render", "a red circle moving left on a black background", "--frames", "8",
         "--fps", "8", "--seed", "7", "--steps", "4", "--output", str(out), "--gif", str(tmp_path / "out.gif")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert out.stat().st_size > 0 and (tmp_path / "out.gif").exists()
    assert "h264/yuv420p" in ok.stdout
    assert "denoising" in ok.stderr  # the progress bar
    bad = subprocess.run(
        [sys.executable, "manage.py", "render", "", "--frames", "0", "--output", str(tmp_path / "bad.mp4")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert bad.returncode == 2
    assert "prompt is empty" in bad.stderr and "Frames must be" in bad.stderr
