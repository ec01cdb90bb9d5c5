"""Send a ping to every queue and wait until a worker has executed each one."""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clipcast.tasks import ping
from core.models import Heartbeat


class Command(BaseCommand):
    help = "Prove that a worker consumes each Celery queue (default, gpu, publish)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--timeout", type=float, default=60.0)

    def handle(self, *args, timeout: float, **options) -> None:
        token = uuid.uuid4().hex[:12]
        queues = [q.name for q in settings.CELERY_TASK_QUEUES]
        for queue in queues:
            ping.apply_async(args=[queue, token], queue=queue, routing_key=queue)
        deadline = time.monotonic() + timeout
        pending = set(queues)
        while pending and time.monotonic() < deadline:
            done = set(
                Heartbeat.objects.filter(name__in=[f"ping:{q}:{token}" for q in pending]).values_list("name", flat=True)
            )
            pending -= {name.split(":")[1] for name in done}
            if pending:
                time.sleep(0.5)
        Heartbeat.objects.filter(name__endswith=f":{token}").delete()
        if pending:
            raise CommandError(f"No worker executed the ping on queue(s): {', '.join(sorted(pending))}.")
        self.stdout.write(self.style.SUCCESS(f"Every queue answered: {', '.join(queues)}"))
