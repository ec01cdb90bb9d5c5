"""Shared fixtures: factories, a superuser, and a real Celery worker process on the real broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.models import Role
from tests.factories import CampaignFactory, MembershipFactory, UserFactory, WorkspaceFactory  # noqa: F401
from tests.worlds import World, build_world

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


@dataclass
class S3Media:
    """A private bucket on the test S3 server (TEST_S3_ENDPOINT_URL) that media storage points at."""

    client: object  # a boto3 S3 client with the test credentials
    endpoint: str
    bucket: str
    env: dict[str, str]  # MEDIA_* variables for a child process (worker) to use the same bucket

    def object_keys(self) -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()


@pytest.fixture
def s3_media(settings) -> S3Media:
    """Media storage in a fresh bucket of the real S3-protocol server that `make services` starts."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import EndpointConnectionError

    from clipcast.storage import s3_storage

    endpoint = os.environ["TEST_S3_ENDPOINT_URL"]
    bucket = f"clipcast-test-{uuid.uuid4().hex[:16]}"
    credentials = {"access_key": "clipcast-test-key", "secret_key": "clipcast-test-secret"}
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=credentials["access_key"],
                          aws_secret_access_key=credentials["secret_key"],
                          config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
    try:
        client.create_bucket(Bucket=bucket)
    except EndpointConnectionError:
        pytest.fail(f"No S3-protocol server at {endpoint}: start it with `make services` (.ci/services.sh).")
    settings.MEDIA_STORAGE = "s3"
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage(
        bucket=bucket, endpoint_url=endpoint, url_expiry=settings.MEDIA_URL_EXPIRY, **credentials)}
    env = {"MEDIA_STORAGE": "s3", "MEDIA_BUCKET": bucket, "MEDIA_S3_ENDPOINT_URL": endpoint,
           "MEDIA_S3_REGION": "us-east-1", "MEDIA_S3_ACCESS_KEY_ID": credentials["access_key"],
           "MEDIA_S3_SECRET_ACCESS_KEY": credentials["secret_key"],
           "MEDIA_URL_EXPIRY": str(settings.MEDIA_URL_EXPIRY)}
    media = S3Media(client, endpoint, bucket, env)
    yield media
    for key in media.object_keys():
        client.delete_object(Bucket=bucket, Key=key)
    client.delete_bucket(Bucket=bucket)


# Two workspace worlds and clients logged in with a role in `mine`'s workspace, for every test folder.
@pytest.fixture
def mine(db) -> World:
    return build_world()


@pytest.fixture
def theirs(db) -> World:
    return build_world()


@pytest.fixture
def login_as(mine):
    """A client logged in with `role` in `mine`'s workspace."""

    def login(role: Role, workspace=None) -> Client:
        membership = MembershipFactory(workspace=workspace or mine.workspace, role=role, user=UserFactory())
        client = Client()
        client.force_login(membership.user)
        client.user = membership.user
        return client

    return login


@pytest.fixture
def editor(login_as) -> Client:
    return login_as(Role.EDITOR)


@pytest.fixture
def owner(login_as) -> Client:
    return login_as(Role.OWNER)


@pytest.fixture
def viewer(login_as) -> Client:
    return login_as(Role.VIEWER)


@pytest.fixture
def reviewer(login_as) -> Client:
    return login_as(Role.REVIEWER)
