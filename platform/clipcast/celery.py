"""The Celery application: queues `default`, `gpu` (renders) and `publish` (X), configured from settings."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clipcast.settings")

app = Celery("clipcast")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
