"""Celery glue for rendering: tasks take ids, re-fetch, and are safe to run twice."""

from __future__ import annotations

import logging
import os

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init
from django.conf import settings
from django.db import InterfaceError, OperationalError

from generation import rendering, services

log = logging.getLogger(__name__)


@worker_process_init.connect
def _warm_pipeline(**_: object) -> None:
    # Only render workers load the model (set by the Procfile for the gpu worker): one pipeline per process.
    if os.environ.get("CLIPCAST_WARM_MODEL") == "1":
        rendering.warm_worker()


@shared_task(
    name="generation.tasks.render_clip",
    bind=True,
    max_retries=None,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.RENDER_SOFT_TIME_LIMIT,
    time_limit=settings.RENDER_HARD_TIME_LIMIT,
)
def render_clip(self, clip_id: int) -> str:
    try:
        return rendering.run_render(clip_id)
    except (OperationalError, InterfaceError) as exc:
        # The database went away (restart, failover): not the clip's fault. Try again; the claim takes the clip
        # back from this process's interrupted attempt.
        log.warning("render.database_unavailable clip=%s error=%s", clip_id, exc)
        raise self.retry(countdown=settings.DATABASE_RETRY_DELAY) from None
    except SoftTimeLimitExceeded:
        rendering.fail_unexpected(
            clip_id, f"The render took longer than {settings.RENDER_SOFT_TIME_LIMIT} s and was stopped: use fewer "
            "frames or steps, or a faster worker.",
        )
        return "failed"
    except Exception as exc:
        log.exception("render.crashed clip=%s", clip_id)
        rendering.fail_unexpected(clip_id, f"The render failed unexpectedly ({type(exc).__name__}): {exc}")
        return "failed"


@shared_task(name="generation.tasks.reap_stuck_clips", ignore_result=True)
def reap_stuck_clips() -> dict[str, int]:
    return services.reap_stuck_clips()
