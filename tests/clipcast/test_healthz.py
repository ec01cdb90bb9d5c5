from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clipcast.tasks import beat_heartbeat
from core.models import Heartbeat
from publishing.tasks import dispatch_due_posts

pytestmark = pytest.mark.django_db


def test_healthz_is_503_before_beat_has_ever_run(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["beat"]["reason"] == "never seen"


def test_healthz_is_ok_after_a_beat_and_503_when_it_goes_stale(client):
    beat_heartbeat()
    assert client.get("/healthz").status_code == 503  # the dispatcher has not run yet
    dispatch_due_posts()
    assert client.get("/healthz").status_code == 200
    hb = Heartbeat.objects.get(name="beat")
    Heartbeat.objects.filter(pk=hb.pk).update(beat_at=timezone.now() - 2 * hb.interval - timedelta(seconds=1))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["beat"]["ok"] is False
