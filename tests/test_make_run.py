"""`make run` on the embedded defaults: the printed URL serves login, dashboard and admin, and every queue is served."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Settings that `make test` exports for PostgreSQL/Redis; `make run` must work without any of them.
TEST_ONLY_VARS = {
    "DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "CLIPCAST_ENCRYPTION_KEYS", "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT", "SECURE_COOKIES", "DJANGO_SETTINGS_MODULE", "CACHE_URL",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_url(output: Path, proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"make run exited with {proc.returncode}:\n{output.read_text()[-5000:]}")
        match = re.search(r"Clipcast is starting on (http://\S+/)", output.read_text())
        if match:
            url = match.group(1)
            try:
                if requests.get(url + "login/", timeout=2).status_code == 200:
                    return url
            except requests.ConnectionError:
                pass
        time.sleep(0.5)
    pytest.fail(f"make run did not serve within {timeout}s:\n{output.read_text()[-5000:]}")


def login(session: requests.Session, url: str, username: str, password: str) -> requests.Response:
    session.get(url + "login/", timeout=10)
    return session.post(
        url + "login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": url + "login/"},
        timeout=10,
    )


def test_make_run_serves_the_demo_and_every_queue(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_VARS and not k.startswith("MAKE")}
    env.update(CLIPCAST_VAR_DIR=str(tmp_path / "var"), PORT=str(free_port()), SANDBOX_PORT=str(free_port()),
               CLIPCAST_DEMO_PASSWORD="demo-pw-7")
    output = tmp_path / "make-run.log"
    with open(output, "wb") as log:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = wait_for_url(output, proc, timeout=240)
        assert "marketer / demo-pw-7" in output.read_text()

        marketer = requests.Session()
        assert login(marketer, url, "marketer", "demo-pw-7").url == url
        dashboard = marketer.get(url, timeout=10)
        assert dashboard.status_code == 200
        assert "Shapes launch" in dashboard.text

        admin = requests.Session()
        login(admin, url, "admin", "demo-pw-7")
        admin_index = admin.get(url + "admin/", timeout=10)
        assert admin_index.status_code == 200
        assert "Campaigns" in admin_index.text

        smoke = subprocess.run(
            [sys.executable, "manage.py", "smoke_queues", "--timeout", "90"],
            cwd=ROOT, env={**env, "DEBUG": "1"}, capture_output=True, text=True, timeout=150,
        )
        assert smoke.returncode == 0, smoke.stdout + smoke.stderr + output.read_text()[-3000:]
        assert "Every queue answered" in smoke.stdout
        sandbox_url = re.search(r"X sandbox: (http://\S+/)", output.read_text()).group(1)
        assert requests.get(sandbox_url, timeout=10).status_code == 200
        deadline = time.monotonic() + 60
        while "is connected to the sandbox" not in output.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "is connected to the sandbox" in output.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
