"""Celery glue for publishing: ids in, rows re-read, every task safe to run twice."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from core.models import Heartbeat
from publishing import dispatch, experiments, metrics_refresh, publisher

log = logging.getLogger(__name__)


@shared_task(name="publishing.tasks.publish_post", bind=True, ignore_result=True, acks_late=True,
             reject_on_worker_lost=True, max_retries=None)
def publish_post(self, post_id: int) -> str:
    try:
        return publisher.publish(post_id)
    except publisher.RetryLater as later:
        log.info("post.retry post=%s in=%.0fs reason=%s", post_id, later.countdown, later.reason[:120])
        raise self.retry(countdown=later.countdown) from None
    except (OperationalError, InterfaceError) as exc:
        # The database went away mid-post: resume later; resuming reconciles with X before creating anything.
        log.warning("post.database_unavailable post=%s error=%s", post_id, exc)
        raise self.retry(countdown=settings.DATABASE_RETRY_DELAY) from None


@shared_task(name="publishing.tasks.dispatch_due_posts", ignore_result=True)
def dispatch_due_posts() -> int:
    """Claim due posts and enqueue them; drains big backlogs in batches within one tick."""
    Heartbeat.record("dispatcher", timedelta(seconds=settings.DISPATCH_INTERVAL), socket.gethostname())
    total = 0
    for _ in range(50):
        result = dispatch.claim_due_posts()
        for post_id in result.claimed:
            publish_post.delay(post_id)
        total += len(result.claimed)
        if len(result.claimed) < dispatch.DISPATCH_BATCH:
            break
    return total


@shared_task(name="publishing.tasks.requeue_stale_posts", ignore_result=True)
def requeue_stale_posts() -> int:
    """Posts in flight whose task vanished (broker restart, lost message) are resumed; resuming reconciles."""
    stale = dispatch.stale_in_flight()
    for post_id in stale:
        publish_post.delay(post_id)
    if stale:
        log.warning("posts.requeued_stale ids=%s", stale)
    return len(stale)


@shared_task(name="publishing.tasks.refresh_metrics", ignore_result=True)
def refresh_metrics() -> int:
    updated = metrics_refresh.refresh_recent()
    # Fresh metrics are what an experiment's stop rule waits for.
    experiments.evaluate_running()
    return updated
