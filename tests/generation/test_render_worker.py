"""Real render workers on Redis + PostgreSQL: files, progress, determinism, cancel, SIGKILL recovery."""

from __future__ import annotations

import os
import signal
import time

import av
import numpy as np
import pytest

from generation import services
from generation.models import Clip, ClipStatus
from tests.factories import PromptTemplateFactory

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PROMPT = "a red circle moving left on a black background"


def make_template(**campaign_fields):
    template = PromptTemplateFactory(body="a {colour} circle moving left on a black background",
                                     variables={"colour": ["red", "blue"]})
    for key, value in campaign_fields.items():
        setattr(template.campaign, key, value)
    template.campaign.model_key = "default"
    template.campaign.save()
    return template


def submit(template, colour="red", seed=7, **params) -> Clip:
    result = services.create_clips(template, [{"colour": colour}], params=params or None,
                                   seed_policy=services.SeedPolicy.FIXED, seed=seed)
    return result.clips[0]


def wait_for(clip: Clip, statuses, timeout=180.0, on_poll=None) -> Clip:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        clip.refresh_from_db()
        if on_poll:
            on_poll(clip)
        if clip.status in statuses:
            return clip
        time.sleep(0.05)
    raise AssertionError(f"clip {clip.pk} stuck in {clip.status} ({clip.progress}%), error={clip.error!r}")


def decode(path) -> tuple[np.ndarray, av.video.stream.VideoStream]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])
        return frames, (stream.codec_context.name, stream.codec_context.pix_fmt, stream.average_rate)


def test_a_worker_renders_an_x_ready_mp4_with_rising_progress(render_worker, media_root):
    render_worker()
    template = make_template(frames=8, fps=8, output_width=128, output_height=128)
    clip = submit(template, steps=12)
    seen: list[int] = []
    clip = wait_for(clip, {ClipStatus.SUCCEEDED, ClipStatus.FAILED}, on_poll=lambda c: seen.append(c.progress))
    assert clip.status == ClipStatus.SUCCEEDED, clip.error
    assert seen == sorted(seen) and seen[-1] == 100
    assert len(set(seen)) > 2, f"progress was not shown while rendering: {seen}"
    frames, (codec, pix_fmt, rate) = decode(media_root / clip.video.name)
    assert (codec, pix_fmt, int(rate)) == ("h264", "yuv420p", 8)
    assert frames.shape == (8, 128, 128, 3)
    assert (media_root / clip.gif.name).exists() and (media_root / clip.poster.name).exists()
    assert set(clip.timings) >= {"queue_wait_s", "load_s", "denoise_s", "decode_s", "encode_s"}
    assert clip.timings["load_s"] == 0.0, "the pipeline should have been warm from worker start"
    assert clip.weights_hash and clip.model_id and clip.worker and clip.device.startswith("cpu")
    assert clip.versions["diffusers"]
    assert (clip.performance["attention"], clip.performance["compile"], clip.performance["offload"]) == (
        "sdpa", "off", "none")


def test_the_workers_performance_settings_are_applied_and_recorded_on_the_clip(render_worker, media_root):
    render_worker(CLIPCAST_LAYERWISE_CASTING="fp8_e4m3", CLIPCAST_VAE_TILING="on", CLIPCAST_VAE_SLICING="on")
    clip = wait_for(submit(make_template(), steps=2), {ClipStatus.SUCCEEDED, ClipStatus.FAILED})
    assert clip.status == ClipStatus.SUCCEEDED, clip.error
    perf = clip.performance
    assert (perf["layerwise_casting"], perf["vae_tiling"], perf["vae_slicing"]) == ("fp8_e4m3", True, True)
    assert perf["requested"]["layerwise_casting"] == "fp8_e4m3"


def test_the_same_seed_gives_the_same_frames(render_worker, media_root):
    render_worker()
    first = submit(make_template(), seed=11, steps=6)
    second = submit(make_template(), seed=11, steps=6)
    other = submit(make_template(), seed=12, steps=6)
    for clip in (first, second, other):
        assert wait_for(clip, {ClipStatus.SUCCEEDED, ClipStatus.FAILED}).status == ClipStatus.SUCCEEDED
    first, second, other = (Clip.objects.get(pk=clip.pk) for clip in (first, second, other))
    assert len(first.frames_hash) == 64
    assert first.frames_hash == second.frames_hash != other.frames_hash
    # The stored videos show the same frames too; x264 may pick other encodings under CPU contention, so the
    # decoded pixels agree to within the codec's rounding rather than bit for bit.
    a, b, c = (decode(media_root / clip.video.name)[0].astype(np.int16) for clip in (first, second, other))
    assert np.abs(a - b).mean() < 0.5
    assert np.abs(a - c).mean() > 5 * max(np.abs(a - b).mean(), 0.1)


def test_a_rendering_clip_can_be_cancelled(render_worker):
    render_worker()
    clip = submit(make_template(), steps=150, frames=24)
    wait_for(clip, {ClipStatus.RENDERING})
    deadline = time.monotonic() + 60
    while clip.progress < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
        clip.refresh_from_db()
    assert services.cancel_clip(clip)
    clip = wait_for(clip, {ClipStatus.CANCELLED, ClipStatus.SUCCEEDED, ClipStatus.FAILED}, timeout=60)
    assert clip.status == ClipStatus.CANCELLED
    assert clip.progress < 90 and not clip.video


def test_a_worker_killed_mid_render_leads_to_exactly_one_render_by_another(render_worker, media_root):
    render_worker(name="gpu-a")
    render_worker(name="gpu-b")
    clip = submit(make_template(), steps=150, frames=24)
    clip = wait_for(clip, {ClipStatus.RENDERING})
    deadline = time.monotonic() + 60
    while clip.progress < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
        clip.refresh_from_db()
    assert clip.status == ClipStatus.RENDERING, "the render finished before it could be killed"
    killed = clip.worker
    os.kill(int(killed.rsplit(":", 1)[1]), signal.SIGKILL)  # the pool process doing the render
    clip = wait_for(clip, {ClipStatus.SUCCEEDED, ClipStatus.FAILED}, timeout=240)
    assert clip.status == ClipStatus.SUCCEEDED, clip.error
    assert clip.worker != killed
    assert clip.attempts == 2
    files = sorted(p.name for p in (media_root / clip.video.name).parent.iterdir())
    assert files == ["clip.gif", "clip.mp4", "poster.png"]


def pool_children(main_pid: int) -> set[int]:
    with open(f"/proc/{main_pid}/task/{main_pid}/children") as handle:
        return {int(pid) for pid in handle.read().split()}


def test_a_replacement_render_process_that_starts_slowly_is_kept_and_renders(render_worker):
    # After a crash the pool forks a new render process, which loads the model before it reports itself up. Celery's
    # default patience is 4 s: a slower load got every replacement killed in turn, and the worker never rendered again.
    worker = render_worker(name="gpu-solo")
    (first,) = pool_children(worker.proc.pid)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not (replacements := pool_children(worker.proc.pid) - {first}):
        assert time.monotonic() < deadline, "the pool never forked a replacement process"
        time.sleep(0.005)
    (replacement,) = replacements
    os.kill(replacement, signal.SIGSTOP)  # a model load that takes longer than Celery's default wait
    time.sleep(6)
    os.kill(replacement, signal.SIGCONT)
    clip = wait_for(submit(make_template(), steps=4), {ClipStatus.SUCCEEDED, ClipStatus.FAILED}, timeout=120)
    assert clip.status == ClipStatus.SUCCEEDED, clip.error
    assert clip.worker.endswith(f":{replacement}"), "the slow-starting process was killed and replaced again"
