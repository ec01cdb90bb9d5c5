"""Housekeeping tasks: liveness beats and a per-queue ping used by the smoke check."""

from __future__ import annotations

import socket
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from core.models import Heartbeat


@shared_task(name="clipcast.tasks.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    Heartbeat.record("beat", timedelta(seconds=settings.HEARTBEAT_INTERVAL), socket.gethostname())


@shared_task(name="clipcast.tasks.ping", ignore_result=True)
def ping(queue: str, token: str) -> None:
    """Prove that a worker consumes `queue`: write a heartbeat named after the queue and the caller's token."""
    Heartbeat.record(f"ping:{queue}:{token}", timedelta(minutes=5), socket.gethostname())
