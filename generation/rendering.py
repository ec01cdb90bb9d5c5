"""Django glue around the pure engine: which models exist (settings), and running one clip's render."""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import time
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import F
from django.utils import timezone

from generation import engine
from generation.models import Clip, ClipStatus, clip_upload_to

log = logging.getLogger(__name__)

PROGRESS_WRITE_INTERVAL = 0.25  # seconds: at most four progress writes a second
CANCEL_CHECK_INTERVAL = 0.5
DENOISE_SHARE = 90  # progress % reached when denoising ends; encoding takes the rest


def registry(allow_paths: bool = False) -> engine.ModelRegistry:
    """`bundled` always; `default` is CLIPCAST_MODEL_PATH when set; CLIPCAST_MODELS adds named folders.

    Folder paths as keys are for the operator's CLI only: keys from web users must not probe the filesystem.
    """
    models = dict(settings.CLIPCAST_MODELS)
    models["default"] = settings.CLIPCAST_MODEL_PATH or str(engine.BUNDLED_PATH)
    return engine.ModelRegistry(models, default="default", allow_paths=allow_paths)


@cache
def device_choice() -> engine.DeviceChoice:
    return engine.choose_device(settings.CLIPCAST_DEVICE, settings.CLIPCAST_DTYPE, settings.CLIPCAST_CPU_OFFLOAD)


def validate_render_params(params: dict) -> None:
    """Check a clip's settings against the model's own limits (configs only, no weights) at submission time."""
    try:
        info = registry().resolve(params.get("model_key"))
        engine.validate(engine.RenderRequest.from_params("placeholder prompt", 0, params), info)
    except engine.InvalidRequest as exc:
        raise ValidationError(exc.problems) from exc
    except engine.EngineError as exc:
        raise ValidationError(str(exc)) from exc


def configure_threads() -> None:
    if settings.CLIPCAST_TORCH_THREADS:
        import torch

        torch.set_num_threads(settings.CLIPCAST_TORCH_THREADS)


def warm_worker() -> None:
    """Load the default pipeline once per worker process so the first render pays no load."""
    configure_threads()
    started = time.perf_counter()
    engine.warm(None, registry=registry(), device=device_choice())
    log.info("render.worker_warm load_s=%.2f", time.perf_counter() - started)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_is_dead(worker: str) -> bool:
    """True when the worker that claimed a clip was a process on this host that no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim(clip_id: int, me: str) -> bool:
    """queued → rendering, atomically. A clip left in `rendering` by a dead process on this host (SIGKILL; the
    broker redelivers its task) is taken over at once, as is one left by this very process (an attempt cut short
    by a lost database connection: a process renders one clip at a time); other hosts' clips wait for the reaper."""
    now = timezone.now()
    fields = {"status": ClipStatus.RENDERING, "worker": me, "started_at": now, "heartbeat_at": now, "stage": "loading",
              "progress": 0, "attempts": F("attempts") + 1}
    if Clip.objects.filter(pk=clip_id, status=ClipStatus.QUEUED, cancel_requested=False).update(**fields):
        return True
    current = Clip.objects.filter(pk=clip_id, status=ClipStatus.RENDERING).values_list("worker", flat=True).first()
    if current and (current == me or _owner_is_dead(current)):
        taken = Clip.objects.filter(pk=clip_id, status=ClipStatus.RENDERING, worker=current).update(**fields)
        if taken:
            log.warning("render.takeover clip=%s dead_worker=%s", clip_id, current)
        return bool(taken)
    return False


class _Lost(Exception):
    """Another worker or the reaper took the clip: stop without writing anything."""


class _Progress:
    def __init__(self, clip_id: int, me: str) -> None:
        self.clip_id, self.me = clip_id, me
        self.last_write = self.last_cancel_check = 0.0
        self.cancel = False

    def mine(self):
        return Clip.objects.filter(pk=self.clip_id, status=ClipStatus.RENDERING, worker=self.me)

    def on_step(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last_write < PROGRESS_WRITE_INTERVAL:
            return
        self.last_write = now
        percent = int(DENOISE_SHARE * done / max(total, 1))
        if not self.mine().update(progress=percent, stage="denoising", heartbeat_at=timezone.now()):
            raise _Lost

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if now - self.last_cancel_check >= CANCEL_CHECK_INTERVAL:
            self.last_cancel_check = now
            self.cancel = Clip.objects.filter(pk=self.clip_id, cancel_requested=True).exists()
        return self.cancel


def _store(clip: Clip, local: Path, name: str) -> str:
    """Upload a finished file from the local scratch folder to media storage (a folder or a bucket) under the
    clip's fixed key, replacing what an interrupted earlier attempt left there (no duplicate objects)."""
    target = clip_upload_to(clip, name)
    if default_storage.exists(target):
        default_storage.delete(target)
    with open(local, "rb") as handle:
        return default_storage.save(target, File(handle, name=name))


def run_render(clip_id: int) -> str:
    """Render one clip end to end. Returns the final status (or 'skipped' when there was nothing to do)."""
    me = worker_identity()
    if not claim(clip_id, me):
        return "skipped"
    clip = Clip.objects.select_related("campaign").get(pk=clip_id)
    progress = _Progress(clip_id, me)
    queue_wait = (clip.started_at - clip.created_at).total_seconds() if clip.started_at else None
    try:
        request = engine.RenderRequest.from_params(clip.prompt, clip.seed, clip.render_params, clip.negative_prompt)
        result = engine.render(request, progress.on_step, progress.should_cancel, registry=registry(),
                               device=device_choice())
        if not progress.mine().update(progress=DENOISE_SHARE, stage="encoding", heartbeat_at=timezone.now()):
            raise _Lost
        r = result.request
        with tempfile.TemporaryDirectory(prefix="clipcast-render-") as tmp:
            exported = engine.export_clip(result.frames, tmp, r.fps, size=(r.output_width, r.output_height))
            names = {
                "video": _store(clip, exported.mp4, "clip.mp4"),
                "gif": _store(clip, exported.gif, "clip.gif"),
                "poster": _store(clip, exported.poster, "poster.png"),
            }
        timings = {"queue_wait_s": queue_wait, **result.timings, "encode_s": exported.encode_s}
        finished = progress.mine().update(
            status=ClipStatus.SUCCEEDED, progress=100, stage="done", finished_at=timezone.now(),
            duration_s=exported.video.duration_s, **names,
            timings=timings, device=f"{result.device} ({result.dtype})", model_id=result.model_id,
            weights_hash=result.weights_hash, frames_hash=result.frames_hash, versions=result.versions, error="",
            windowing=result.windowing,
        )
        if not finished:
            raise _Lost
        log.info("render.succeeded clip=%s denoise_s=%.2f", clip_id, result.timings.get("denoise_s") or 0)
        return ClipStatus.SUCCEEDED
    except _Lost:
        log.warning("render.lost clip=%s worker=%s", clip_id, me)
        return "lost"
    except engine.RenderCancelled as exc:
        progress.mine().update(status=ClipStatus.CANCELLED, stage="cancelled", finished_at=timezone.now(),
                               error=str(exc))
        return ClipStatus.CANCELLED
    except engine.InvalidRequest as exc:
        return _fail(progress, "This clip's settings cannot be rendered: " + " ".join(exc.problems))
    except engine.EngineError as exc:
        return _fail(progress, str(exc))


def _fail(progress: _Progress, message: str) -> str:
    progress.mine().update(status=ClipStatus.FAILED, stage="failed", finished_at=timezone.now(), error=message[:2000])
    log.warning("render.failed clip=%s reason=%s", progress.clip_id, message[:200])
    return ClipStatus.FAILED


def fail_unexpected(clip_id: int, message: str) -> None:
    """For errors outside the engine (time limits, bugs): the clip must never stay in `rendering`."""
    _fail(_Progress(clip_id, worker_identity()), message)

