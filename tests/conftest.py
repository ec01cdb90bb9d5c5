"""Shared fixtures: factories, a superuser, and a real Celery worker process on the real broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import CampaignFactory, MembershipFactory, UserFactory, WorkspaceFactory  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def child_env(**extra: str) -> dict[str, str]:
    """The environment a child process needs to talk to the same test database and broker as the tests."""
    env = dict(os.environ)
    db = connection.settings_dict
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["PYTHONPATH"] = f"{ROOT / 'platform'}{os.pathsep}{ROOT}"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class WorkerProcess:
    """A `celery worker` subprocess consuming the given queues of the test broker."""

    def __init__(self, queues: str, name: str, log_path: Path, concurrency: int = 1, extra_env=None) -> None:
        self.queues = queues
        self.log_path = log_path
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        args = [
            str(VENV_BIN / "celery"), "-A", "clipcast", "worker", "-Q", queues, "-c", str(concurrency),
            "--prefetch-multiplier", "1", "-n", f"{name}@%h", "--without-gossip", "--without-mingle",
            "--loglevel", "INFO",
        ]
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=child_env(**(extra_env or {})), stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        from clipcast.tasks import ping
        from core.models import Heartbeat

        token = uuid.uuid4().hex[:10]
        queue = self.queues.split(",")[0]
        ping.apply_async(args=[queue, token], queue=queue, routing_key=queue)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early; log:\n{self.log_path.read_text()[-4000:]}")
            if Heartbeat.objects.filter(name=f"ping:{queue}:{token}").exists():
                Heartbeat.objects.filter(name=f"ping:{queue}:{token}").delete()
                return
            time.sleep(0.3)
        raise TimeoutError(f"worker did not answer within {timeout}s; log:\n{self.log_path.read_text()[-4000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def purge_broker() -> None:
    from clipcast.celery import app

    with app.connection_for_write() as conn:
        for queue in settings.CELERY_TASK_QUEUES:
            queue(conn.default_channel).purge()


@pytest.fixture
def start_worker(tmp_path, transactional_db):
    """Start real worker processes; every one is stopped when the test ends."""
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "amqp://")):
        pytest.fail("Integration tests need a real broker: run them with `make test` (Redis on 127.0.0.1).")
    purge_broker()
    workers: list[WorkerProcess] = []

    def start(queues: str = "default,gpu,publish", name: str = "test", concurrency: int = 1, **env) -> WorkerProcess:
        worker = WorkerProcess(queues, f"{name}{len(workers)}", tmp_path / f"worker-{len(workers)}.log",
                               concurrency=concurrency, extra_env=env)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()
    purge_broker()


@pytest.fixture(scope="session")
def render_model_dir(tmp_path_factory) -> Path:
    """The bundled model; until it is trained and committed, a tiny random AnimateDiff folder of the same kind."""
    from generation.engine import BUNDLED_PATH

    if (BUNDLED_PATH / "model_index.json").exists():
        return BUNDLED_PATH
    from tests.generation.engine.conftest import build_animatediff

    return build_animatediff(tmp_path_factory.mktemp("tiny-animatediff"))


@pytest.fixture(autouse=True)
def _empty_cache(request):
    """The cache is shared (Redis) and outlives a test: login and API throttle counts must not leak between tests.

    Only tests that use the database get here: pure tests (the engine, training) run on machines without Redis.
    """
    if request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames):
        from django.core.cache import cache

        cache.clear()
    yield


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


HEARTBEAT_INTERVAL = timedelta(seconds=settings.HEARTBEAT_INTERVAL)
