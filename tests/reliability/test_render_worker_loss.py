"""Scenario 1: render workers die (SIGKILL) or hang (SIGSTOP) mid-render; every clip still ends `succeeded`
exactly once, with no orphaned files."""

from __future__ import annotations

import glob
import os
import random
import signal
import tempfile
import time
from datetime import timedelta

import pytest

from generation import services
from generation.models import Clip, ClipStatus
from tests.generation.test_render_worker import make_template, submit, wait_for
from tests.reliability.conftest import trials

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIP_FILES = ["clip.gif", "clip.mp4", "poster.png"]


def pool_pid(clip: Clip) -> int:
    return int(clip.worker.rsplit(":", 1)[1])


def wait_for_progress(clip: Clip, percent: int, timeout: float = 120) -> Clip:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        clip.refresh_from_db()
        if clip.status != ClipStatus.RENDERING or clip.progress >= percent:
            return clip
        time.sleep(0.02)
    raise AssertionError(f"clip {clip.pk} did not reach {percent}% (at {clip.progress}%)")


def orphans(media_root) -> list[str]:
    """Files under MEDIA_ROOT that no succeeded clip owns, and render scratch folders left in the temp dir."""
    owned = {
        os.path.join(str(media_root), name)
        for clip in Clip.objects.filter(status=ClipStatus.SUCCEEDED)
        for name in (clip.video.name, clip.gif.name, clip.poster.name)
    }
    on_disk = {os.path.join(d, f) for d, _, files in os.walk(media_root) for f in files}
    scratch = glob.glob(os.path.join(tempfile.gettempdir(), "clipcast-render-*"))
    return sorted(on_disk - owned) + scratch


def test_killed_and_hung_render_workers_lose_and_double_nothing(render_worker, media_root, record):
    rng = random.Random(20261202)
    kills, hangs = trials(2, 20), trials(1, 3)
    scratch_before = set(glob.glob(os.path.join(tempfile.gettempdir(), "clipcast-render-*")))
    render_worker(name="gpu-a")
    render_worker(name="gpu-b")
    template = make_template()
    outcomes: list[str] = []
    killed_at: list[int] = []
    doubled = 0

    for trial in range(kills + hangs):
        hang = trial >= kills
        clip = submit(template, seed=1000 + trial, steps=100, frames=8)
        clip = wait_for(clip, {ClipStatus.RENDERING, ClipStatus.SUCCEEDED, ClipStatus.FAILED})
        clip = wait_for_progress(clip, rng.randint(2, 75))
        if clip.status != ClipStatus.RENDERING:
            outcomes.append("finished before the fault")
            continue
        victim, pid = clip.worker, pool_pid(clip)
        killed_at.append(clip.progress)
        if hang:
            os.kill(pid, signal.SIGSTOP)
            # The reaper (beat runs it every REAP_INTERVAL) sees the heartbeat go silent and requeues the clip.
            deadline = time.monotonic() + 60
            while not services.reap_stuck_clips(silence=timedelta(seconds=3))["requeued"]:
                assert time.monotonic() < deadline, "the reaper never noticed the hung worker"
                time.sleep(0.5)
        else:
            os.kill(pid, signal.SIGKILL)
        clip = wait_for(clip, {ClipStatus.SUCCEEDED, ClipStatus.FAILED}, timeout=240)
        if hang:
            os.kill(pid, signal.SIGCONT)  # it wakes up, finds the clip taken, and must write nothing
            time.sleep(2)
        clip.refresh_from_db()
        files = sorted(p.name for p in (media_root / clip.video.name).parent.iterdir())
        doubled += len(files) > len(CLIP_FILES)
        ok = (clip.status == ClipStatus.SUCCEEDED and clip.worker != victim and clip.attempts == 2
              and files == CLIP_FILES)
        outcomes.append("ok" if ok else f"clip {clip.pk}: {clip.status} attempts={clip.attempts} files={files}")

    stray = [p for p in orphans(media_root) if p not in scratch_before]
    stuck = Clip.objects.active().count()
    passed = outcomes.count("ok")
    record("1. Render worker loss (SIGKILL / SIGSTOP mid-render)", trials=kills + hangs, passed=passed,
           duplicates=doubled, lost=Clip.objects.exclude(status=ClipStatus.SUCCEEDED).count(), stuck=stuck,
           notes=f"{kills} SIGKILL + {hangs} SIGSTOP at {min(killed_at, default=0)}-{max(killed_at, default=0)}% "
           f"of the render; orphaned files: {len(stray)}", kill_progress=killed_at)
    assert outcomes == ["ok"] * len(outcomes), outcomes
    assert not stray, f"orphaned files: {stray}"
    assert stuck == 0
