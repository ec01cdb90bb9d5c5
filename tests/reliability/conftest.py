"""Reliability scenarios (SCENARIOS.md beside this file): short in `make test`, full trial counts in `make reliability`.

`CLIPCAST_RELIABILITY=full` selects the full counts and the scenarios that only run there (infrastructure
restarts, X faults, load). Each scenario records one row (trials, passed, duplicates, lost, stuck, notes) into
the JSON-lines file named by `CLIPCAST_RELIABILITY_OUT`, from which `tests/reliability/report.py` writes
docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, VENV_BIN, child_env

# Shared fixtures of the render and publishing tests.
from tests.generation.conftest import media_root, render_worker  # noqa: F401
from tests.publishing.conftest import make_video, sandbox, sandbox_server  # noqa: F401
from tests.publishing.test_publish_worker import x_env  # noqa: F401

FULL = os.environ.get("CLIPCAST_RELIABILITY") == "full"


def trials(short: int, full: int) -> int:
    """The trial count of this mode; CLIPCAST_RELIABILITY_TRIALS caps it (a quick rehearsal of the full mode)."""
    cap = int(os.environ.get("CLIPCAST_RELIABILITY_TRIALS") or 0)
    count = full if FULL else short
    return min(count, cap) if cap else count


full_only = pytest.mark.skipif(not FULL, reason="runs in `make reliability` (CLIPCAST_RELIABILITY=full)")


@pytest.fixture
def record() -> Callable[..., None]:
    """record(scenario, trials, passed, duplicates=0, lost=0, stuck=0, notes="", **figures)."""

    def write(scenario: str, trials: int, passed: int, duplicates: int = 0, lost: int = 0, stuck: int = 0,
              notes: str = "", **figures: object) -> None:
        out = os.environ.get("CLIPCAST_RELIABILITY_OUT")
        if not out:
            return
        row = {"scenario": scenario, "trials": trials, "passed": passed, "duplicates": duplicates, "lost": lost,
               "stuck": stuck, "notes": notes, "figures": figures, "mode": "full" if FULL else "short",
               "at": time.strftime("%Y-%m-%d %H:%M:%S")}
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with open(out, "a") as handle:
            handle.write(json.dumps(row) + "\n")

    return write


# Short beat intervals and staleness windows, so recovery shows within minutes instead of the production defaults.
FAST_RECOVERY = {"DISPATCH_INTERVAL": "2", "REAP_INTERVAL": "3", "RENDER_STALE_AFTER": "15",
                 "RENDER_REQUEUE_AFTER": "20", "PUBLISH_STALE_AFTER": "20", "DATABASE_RETRY_DELAY": "2"}


@pytest.fixture
def beat(tmp_path, transactional_db):
    log = open(tmp_path / "beat.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([str(VENV_BIN / "celery"), "-A", "clipcast", "beat", "--loglevel", "INFO", "--pidfile="],
                            cwd=ROOT, env=child_env(**FAST_RECOVERY), stdout=log, stderr=subprocess.STDOUT)
    yield proc
    proc.terminate()
    proc.wait(timeout=30)
    log.close()

