"""Django glue around the pure engine: which models exist (settings), and running one clip's render."""

from __future__ import annotations

import dataclasses
import hashlib
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
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts import audit
from generation import engine
from generation.models import BrandLora, Clip, ClipStatus, clip_upload_to

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


def performance_settings() -> engine.PerformanceSettings:
    return engine.PerformanceSettings(
        attention=settings.CLIPCAST_ATTENTION, compile=settings.CLIPCAST_COMPILE, offload=settings.CLIPCAST_OFFLOAD,
        layerwise_casting=settings.CLIPCAST_LAYERWISE_CASTING, quantization=settings.CLIPCAST_QUANTIZATION,
        vae_tiling=settings.CLIPCAST_VAE_TILING, vae_slicing=settings.CLIPCAST_VAE_SLICING,
        vae_fp32=settings.CLIPCAST_VAE_FP32,
    )


@cache
def device_choice() -> engine.DeviceChoice:
    return engine.choose_device(settings.CLIPCAST_DEVICE, settings.CLIPCAST_DTYPE, settings.CLIPCAST_CPU_OFFLOAD,
                                performance_settings())


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
    try:
        engine.warm(None, registry=registry(), device=device_choice())
    except engine.EngineError as exc:
        # Weights not fetched yet (or a broken folder): the worker stays up, and each clip of this model fails
        # with the same sentence saying what to run, instead of the process dying and respawning in a loop.
        log.error("render.worker_not_warm reason=%s", exc)
        return
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


def claim_next(clip_id: int, me: str) -> int | None:
    """Claim the clip this render message should make, and return its id (None: nothing left to render).

    Broker queues are first in, first out, but a clip whose post is due soonest must render first: so a message
    is a turn on a render worker, not an order for its own clip. The turn goes first to a clip an attempt on this
    host left behind (see `claim`), then to the most urgent queued clip (`in_render_order`). Every clip has its
    own message, so every queued clip still gets a turn; a message that finds nothing queued does nothing."""
    left_here = Clip.objects.filter(status=ClipStatus.RENDERING, worker__startswith=f"{socket.gethostname()}:")
    for pk in sorted(left_here.values_list("pk", flat=True), key=lambda pk: pk != clip_id):
        if claim(pk, me):
            return pk
    with transaction.atomic():
        first = Clip.objects.in_render_order().select_for_update(skip_locked=True, of=("self",)).only("pk").first()
        if first is not None and claim(first.pk, me):
            return first.pk
    return None


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


class LoraUnavailable(engine.EngineError):
    """A clip's LoRA was deleted, or its stored file is not the one that was checked."""


def fetch_lora(lora: BrandLora) -> Path:
    """The LoRA's file on this host: downloaded from media storage once into the worker's cache (named by sha256,
    checked while streaming, moved into place whole), then reused by every later render."""
    cache_dir = Path(settings.CLIPCAST_LORA_CACHE_DIR)
    target = cache_dir / f"{lora.sha256}.safetensors"
    if target.is_file() and (not lora.size or target.stat().st_size == lora.size):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=cache_dir, prefix=".fetch-", delete=False) as partial:
        try:
            with default_storage.open(lora.file.name, "rb") as source:
                for chunk in iter(lambda: source.read(1 << 20), b""):
                    digest.update(chunk)
                    partial.write(chunk)
        except OSError as exc:
            os.unlink(partial.name)
            raise LoraUnavailable(f"LoRA “{lora.name}” could not be read from media storage ({exc}): upload it "
                                  "again.") from exc
    if digest.hexdigest() != lora.sha256:
        os.unlink(partial.name)
        raise LoraUnavailable(f"LoRA “{lora.name}”'s stored file is not the one that was uploaded (its sha256 "
                              "differs): upload it again.")
    os.replace(partial.name, target)
    log.info("render.lora_fetched lora=%s sha=%s", lora.pk, lora.sha256[:12])
    return target


def lora_weights_for(clip: Clip) -> tuple[engine.LoraWeights, ...]:
    """The engine's LoRA list for the snapshot the clip was made with; its files fetched to this host."""
    if not clip.loras:
        return ()
    shas = [entry["sha256"] for entry in clip.loras]
    found = {lora.sha256: lora for lora in BrandLora.objects.filter(workspace_id=clip.campaign.workspace_id,
                                                                     sha256__in=shas)}
    weights = []
    for entry in clip.loras:
        lora = found.get(entry["sha256"])
        if lora is None:
            raise LoraUnavailable(f"LoRA “{entry.get('name')}” was deleted after this clip was made: upload it "
                                  "again, or render a new clip without it.")
        weights.append(engine.LoraWeights(fetch_lora(lora), lora.sha256, float(entry["weight"]), entry.get("name", "")))
    return tuple(weights)


def run_render(clip_id: int) -> str:
    """Render one clip end to end. Returns the final status (or 'skipped' when there was nothing to do)."""
    me = worker_identity()
    clip_id = claim_next(clip_id, me)
    if clip_id is None:
        return "skipped"
    clip = Clip.objects.select_related("campaign").get(pk=clip_id)
    progress = _Progress(clip_id, me)
    queue_wait = (clip.started_at - clip.created_at).total_seconds() if clip.started_at else None
    started = time.perf_counter()
    try:
        request = engine.RenderRequest.from_params(clip.prompt, clip.seed, clip.render_params, clip.negative_prompt)
        request = dataclasses.replace(request, loras=lora_weights_for(clip))
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
            wall_s = time.perf_counter() - started
        timings = {"queue_wait_s": queue_wait, **result.timings, "encode_s": exported.encode_s, "wall_s": wall_s}
        finished = progress.mine().update(
            status=ClipStatus.SUCCEEDED, progress=100, stage="done", finished_at=timezone.now(),
            duration_s=exported.video.duration_s, **names, gpu_seconds=device_seconds(timings),
            timings=timings, device=f"{result.device} ({result.dtype})", model_id=result.model_id,
            weights_hash=result.weights_hash, frames_hash=result.frames_hash, versions=result.versions, error="",
            performance=result.performance,
            frames_note=frames_note(result),
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
        # The steps done before the cancel held the device too: they count against the workspace's quota.
        progress.mine().update(status=ClipStatus.CANCELLED, stage="cancelled", finished_at=timezone.now(),
                               error=str(exc), gpu_seconds=time.perf_counter() - started)
        return ClipStatus.CANCELLED
    except engine.InvalidRequest as exc:
        return _fail(progress, "This clip's settings cannot be rendered: " + " ".join(exc.problems))
    except engine.EngineError as exc:
        return _fail(progress, str(exc))


def device_seconds(timings: dict) -> float:
    """The seconds a render held its device: loading the model (0 when warm), denoising, decoding, exporting."""
    return sum(timings.get(stage) or 0.0 for stage in ("load_s", "denoise_s", "decode_s", "encode_s"))


def frames_note(result: engine.RenderResult) -> dict:
    """The frame counts of the render's provenance: asked for, rendered, and the sentence when they differ."""
    requested = result.request.frames_requested
    return {
        "frames_requested": requested if requested is not None else result.request.num_frames,
        "frames_rendered": int(result.frames.shape[0]),
        "notes": list(result.notes),
    }


def _fail(progress: _Progress, message: str) -> str:
    with transaction.atomic():
        if progress.mine().update(status=ClipStatus.FAILED, stage="failed", finished_at=timezone.now(),
                                  error=message[:2000]):
            clip = Clip.objects.select_related("campaign").get(pk=progress.clip_id)
            audit.record("failed", clip, {"status": [ClipStatus.RENDERING, ClipStatus.FAILED],
                                          "error": [None, message]}, actor=None)
    log.warning("render.failed clip=%s reason=%s", progress.clip_id, message[:200])
    return ClipStatus.FAILED


def fail_unexpected(clip_id: int, message: str) -> None:
    """For errors outside the engine (time limits, bugs): the clip must never stay in `rendering`."""
    _fail(_Progress(clip_id, worker_identity()), message)

