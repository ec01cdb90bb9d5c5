"""The user-facing commands, run as a user runs them: `manage.py x_post` and `manage.py x_sandbox --seed-demo`."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management import call_command

from publishing import gateway
from publishing.models import AccountStatus, AuthKind, XAccount
from publishing.x import OAuth2App, OAuth2Flow
from tests.conftest import ROOT
from tests.conftest import child_env as child_env

pytestmark = pytest.mark.slow  # each test starts Django in a subprocess

CONSUMER = {"consumer_key": "clipcast-cli-consumer", "consumer_secret": "clipcast-cli-consumer-secret"}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=child_env(**env), capture_output=True,
                          text=True, timeout=120)


def sandbox_env(url: str, **extra: str) -> dict[str, str]:
    return {"X_API_BASE_URL": url, "X_UPLOAD_BASE_URL": url, "X_WEB_BASE_URL": url, **extra}


def oauth1_env(creds: dict) -> dict[str, str]:
    return {"X_CONSUMER_KEY": creds["consumer_key"], "X_CONSUMER_SECRET": creds["consumer_secret"],
            "X_ACCESS_TOKEN": creds["access_token"], "X_ACCESS_TOKEN_SECRET": creds["access_token_secret"]}


def test_x_post_uploads_a_clip_and_prints_progress_and_the_post_url(sandbox, make_video):
    sandbox.configure(processing_secs=0)
    creds = sandbox.create_account(**CONSUMER)
    video = make_video(1.0)

    done = run_manage("x_post", "--video", str(video), "--text", "A red circle, made with Clipcast #clipcast",
                      **sandbox_env(sandbox.url, **oauth1_env(creds)))

    assert done.returncode == 0, done.stderr
    size = video.stat().st_size
    assert f"uploading 100% ({size}/{size} bytes)" in done.stdout
    [on_x] = sandbox.posts(creds["user_id"])
    assert on_x["text"].startswith("A red circle, made with Clipcast #clipcast") and on_x["made_with_ai"]
    assert f"processed: media {on_x['media_id']}" in done.stdout
    url = f"{sandbox.url}/{creds['username']}/status/{on_x['id']}"
    assert f"Posted: {url}" in done.stdout
    assert requests.get(url, timeout=5).status_code == 200


def test_x_post_with_an_oauth2_token_from_the_environment(sandbox, make_video):
    sandbox.configure(processing_secs=0)
    creds = sandbox.create_account()
    flow = OAuth2Flow(OAuth2App(creds["client_id"], "http://127.0.0.1:9/callback"), api_base_url=sandbox.url)
    request = flow.authorization_request()
    answer = requests.get(request.url, allow_redirects=False, timeout=5)
    token = flow.exchange_code(flow.code_from_callback(answer.headers["Location"], request.state),
                               request.code_verifier)

    done = run_manage("x_post", "--video", str(make_video(1.0)), "--text", "Posted with an OAuth 2.0 token",
                      "--no-ai-label", **sandbox_env(sandbox.url, X_OAUTH2_ACCESS_TOKEN=token.access_token))

    assert done.returncode == 0, done.stderr
    [on_x] = sandbox.posts(creds["user_id"])
    assert not on_x["made_with_ai"]
    assert f"Posted: {sandbox.url}/{creds['username']}/status/{on_x['id']}" in done.stdout


@pytest.mark.parametrize("lands", [False, True], ids=["503 before the create", "503 after the create landed"])
def test_x_post_survives_a_503_on_create_and_posts_exactly_once(sandbox, make_video, lands):
    sandbox.configure(processing_secs=0)
    creds = sandbox.create_account(**CONSUMER)
    sandbox.fault(creds["user_id"], "server_error", status=503, method="POST", path="/2/tweets", lands=lands)

    done = run_manage("x_post", "--video", str(make_video(1.0)), "--text", "Through one outage",
                      **sandbox_env(sandbox.url, **oauth1_env(creds)))

    assert done.returncode == 0, done.stderr
    [on_x] = sandbox.posts(creds["user_id"])
    assert "attempt 1/8 failed at create: X is unavailable (HTTP 503)" in done.stdout
    assert "look for the post on X, then create it only if it is not there in 5 s" in done.stdout
    if lands:
        assert f"found post {on_x['id']} with media {on_x['media_id']} on X" in done.stdout
    assert f"Posted: {sandbox.url}/{creds['username']}/status/{on_x['id']}" in done.stdout
    creates = [c.status for c in sandbox.server.sandbox.api_calls
               if c.user_id == creds["user_id"] and (c.method, c.path) == ("POST", "/2/tweets")]
    assert creates == ([503] if lands else [503, 201]), "created again although the first create had landed"


def test_x_post_refuses_a_too_long_caption_before_calling_x(sandbox, make_video):
    creds = sandbox.create_account(**CONSUMER)
    # Nothing listens on port 9: any call to X would fail with a connection error instead of the caption error.
    done = run_manage("x_post", "--video", str(make_video(1.0)), "--text", "🎬" * 141,
                      **sandbox_env("http://127.0.0.1:9", **oauth1_env(creds)))
    assert done.returncode != 0
    assert "282/280 weighted characters" in done.stderr and "shorten" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "uploading" not in done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_line(log: Path, proc: subprocess.Popen, text: str, timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = log.read_text()
        if text in output:
            return output
        if proc.poll() is not None:
            pytest.fail(f"x_sandbox exited with {proc.returncode}:\n{output[-3000:]}")
        time.sleep(0.3)
    pytest.fail(f"x_sandbox did not print {text!r} within {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.mark.integration
def test_x_sandbox_seed_demo_connects_the_demo_workspace_account(transactional_db, tmp_path, settings):
    call_command("seed_demo", stdout=open(tmp_path / "seed.log", "w"))  # noqa: SIM115 - closed with the test dir
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    keys = {"X_CONSUMER_KEY": "clipcast-demo-consumer", "X_CONSUMER_SECRET": "clipcast-demo-consumer-secret",
            "X_OAUTH2_CLIENT_ID": "clipcast-demo-client", "X_OAUTH2_CLIENT_SECRET": ""}
    log = tmp_path / "x_sandbox.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "manage.py", "x_sandbox", "--port", str(port), "--db",
                                 str(tmp_path / "sandbox.sqlite3"), "--processing-secs", "0", "--seed-demo"],
                                cwd=ROOT, env=child_env(**sandbox_env(url, **keys)), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output = wait_for_line(log, proc, "is connected to the sandbox")
        assert f"X sandbox on {url}/" in output
        account = XAccount.objects.get(workspace__slug="demo", handle="clipcast_demo")
        assert account.auth_kind == AuthKind.OAUTH1 and account.status == AccountStatus.ACTIVE
        assert account.x_user_id and account.access_token and account.access_token_secret

        settings.X_API_BASE_URL = settings.X_UPLOAD_BASE_URL = url
        settings.X_CONSUMER_KEY, settings.X_CONSUMER_SECRET = keys["X_CONSUMER_KEY"], keys["X_CONSUMER_SECRET"]
        with gateway.client_for(account) as client:
            me = client.get_me()
        assert (me.id, me.username) == (account.x_user_id, "clipcast_demo")
        # The demo app also carries the OAuth 2.0 client, so "Connect with X" works under `make run`.
        app = requests.post(f"{url}/_sandbox/apps", json={"consumer_key": keys["X_CONSUMER_KEY"]}, timeout=5).json()
        assert app["client_id"] == "clipcast-demo-client"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
