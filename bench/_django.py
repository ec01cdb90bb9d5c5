"""Shared set-up for benchmarks: a dedicated PostgreSQL database and Redis db, migrated, Django configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clipcast_bench")
BENCH_BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")


def bench_env(**extra: str) -> dict[str, str]:
    import base64

    env = dict(os.environ)
    env.update(
        DATABASE_URL=BENCH_DB,
        CELERY_BROKER_URL=BENCH_BROKER,
        SECRET_KEY=env.get("SECRET_KEY", "bench-only-secret-key-" + "x" * 40),
        CLIPCAST_ENCRYPTION_KEYS=env.get(
            "CLIPCAST_ENCRYPTION_KEYS", base64.urlsafe_b64encode(b"clipcast-bench-encryption-key-32").decode()
        ),
        ALLOWED_HOSTS="localhost,127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        PYTHONPATH=f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
        PYTHONUNBUFFERED="1",
        HF_HUB_OFFLINE="1",
    )
    env.update(extra)
    return env


def use_database(url: str) -> None:
    """Make this process's benchmark (and the processes it starts) use another database than the shared one."""
    global BENCH_DB
    BENCH_DB = url


def drop_database() -> None:
    """Drop the bench database (after closing this process's connections to it)."""
    import psycopg
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()
    name = BENCH_DB.rsplit("/", 1)[1]
    with psycopg.connect(BENCH_DB.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup() -> None:
    """Create the bench database if needed, migrate it, and configure Django in this process."""
    import psycopg

    name = BENCH_DB.rsplit("/", 1)[1]
    admin = BENCH_DB.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(bench_env())
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=bench_env(), check=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clipcast.settings")
    import django

    django.setup()


def start_worker(queues: str, concurrency: int = 1, log_path: Path | None = None, **env: str) -> subprocess.Popen:
    args = [str(Path(sys.executable).parent / "celery"), "-A", "clipcast", "worker", "-Q", queues, "-c",
            str(concurrency), "--prefetch-multiplier", "1", "--without-gossip", "--without-mingle", "--loglevel",
            "WARNING", "-n", f"bench-{queues.replace(',', '-')}-{os.getpid()}@%h"]
    log = open(log_path or os.devnull, "ab")  # noqa: SIM115 - lives as long as the worker
    return subprocess.Popen(args, cwd=ROOT, env=bench_env(**env), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    import signal

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def purge_broker() -> None:
    from django.conf import settings

    from clipcast.celery import app

    with app.connection_for_write() as conn:
        for queue in settings.CELERY_TASK_QUEUES:
            queue(conn.default_channel).purge()
