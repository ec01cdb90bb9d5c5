"""A real worker process consumes tasks from Redis and writes to PostgreSQL."""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings

from clipcast.tasks import ping
from core.models import Heartbeat

pytestmark = pytest.mark.integration


def test_a_worker_consumes_each_queue_from_redis_and_writes_to_postgresql(start_worker):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    start_worker("default,gpu,publish")
    token = uuid.uuid4().hex[:8]
    queues = ["default", "gpu", "publish"]
    for queue in queues:
        ping.apply_async(args=[queue, token], queue=queue, routing_key=queue)
    deadline = time.monotonic() + 30
    names = {f"ping:{q}:{token}" for q in queues}
    while time.monotonic() < deadline and Heartbeat.objects.filter(name__in=names).count() < len(names):
        time.sleep(0.2)
    rows = Heartbeat.objects.filter(name__in=names)
    assert rows.count() == 3
    assert all(row.host for row in rows)


def test_routes_send_render_and_publish_tasks_to_their_queues():
    from clipcast.celery import app

    router = app.amqp.router
    assert router.route({}, "generation.tasks.render_clip")["queue"].name == "gpu"
    assert router.route({}, "publishing.tasks.publish_post")["queue"].name == "publish"
    assert router.route({}, "clipcast.tasks.beat_heartbeat")["queue"].name == "default"


def test_reliability_options_are_on():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def test_every_beat_entry_expires():
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry.get("options", {}).get("expires"), f"beat entry {name} has no expires"
