"""Liveness records: every periodic process writes a heartbeat so a dead scheduler is visible, not silent."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    name = models.CharField(max_length=100, unique=True)
    beat_at = models.DateTimeField()
    interval = models.DurationField(default=timedelta(seconds=30))
    host = models.CharField(max_length=255, blank=True)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        db_table = "clipcast_heartbeat"  # created by the clipcast app before the model moved here

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def record(cls, name: str, interval: timedelta, host: str = "") -> None:
        now = timezone.now()
        updated = cls.objects.filter(name=name).update(
            beat_at=now, interval=interval, host=host, count=models.F("count") + 1
        )
        if not updated:
            cls.objects.update_or_create(
                name=name, defaults={"beat_at": now, "interval": interval, "host": host, "count": 1}
            )

    def is_stale(self, now=None) -> bool:
        now = now or timezone.now()
        return self.beat_at < now - 2 * self.interval
