"""Restarting this machine's Redis and PostgreSQL from a test (they are started by .ci/services.sh)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def _services_up() -> None:
    subprocess.run(["bash", str(ROOT / ".ci" / "services.sh")], check=True, timeout=120, capture_output=True)


def restart_redis(down_for: float = 2.0) -> None:
    """Stop Redis without saving (it keeps nothing on disk here: every queued message is lost), then start it."""
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], timeout=30,
                   capture_output=True)
    time.sleep(down_for)
    _services_up()


def restart_postgres() -> None:
    version = sorted((p.name for p in Path("/etc/postgresql").iterdir()), key=lambda v: [int(x) for x in
                                                                                           v.split(".")])[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
                   check=True, timeout=120, capture_output=True)
    _services_up()


def with_db_retry(query: Callable[[], T], timeout: float = 120.0) -> T:
    """Run an ORM query, reconnecting while PostgreSQL restarts."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return query()
        except (OperationalError, InterfaceError):
            connection.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
