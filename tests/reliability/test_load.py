"""Scenario 8: load. wrk (Debian's package) against the clip list API and the dashboard's clip gallery for 60 s at
50 connections (error rate, p50/p99), and 10,000 posts due in the same minute posted once each within the post
limits the sandbox enforces."""

from __future__ import annotations

import collections
import os
import re
import shutil
import socket
import subprocess
import time
from datetime import timedelta

import pytest
import requests
from django.urls import reverse
from rest_framework.authtoken.models import Token

from generation.models import Clip, ClipStatus
from publishing.models import AuthKind, Post, XAccount
from publishing.tasks import dispatch_due_posts
from tests.conftest import ROOT, VENV_BIN, child_env
from tests.factories import MembershipFactory, PromptTemplateFactory
from tests.publishing.test_publish_worker import CONSUMER, approved_clip, due_posts, wait_until_settled
from tests.reliability.conftest import full_only, trials

pytestmark = [pytest.mark.integration, pytest.mark.slow, full_only]

WRK_SECONDS = int(os.environ.get("CLIPCAST_LOAD_SECONDS", "60"))  # shorter for a rehearsal
WRK_CONNECTIONS = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrk(url: str, header: str, seconds: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "--latency",
                          "-H", header, url], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    total = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return {"requests": total, "errors": non_2xx + socket_errors, "rps": total / seconds, "p50_ms": ms("50"),
            "p99_ms": ms("99")}


@pytest.fixture
def web_server(transactional_db, tmp_path):
    port = free_port()
    log = open(tmp_path / "web.log", "ab")  # noqa: SIM115 - closed below
    # Throttling is tested elsewhere; here it would turn the measurement of capacity into a count of 429s.
    proc = subprocess.Popen([str(VENV_BIN / "python"), "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                            cwd=ROOT, env=child_env(API_THROTTLE_USER="100000000/min"), stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/healthz", timeout=2)
            break
        except requests.ConnectionError:
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def test_the_clip_api_and_the_dashboard_serve_50_connections_without_errors(web_server, client, record):
    if not shutil.which("wrk"):
        pytest.fail("wrk is missing: `make reliability` installs it (apt-get install wrk)")
    template = PromptTemplateFactory()
    campaign = template.campaign
    Clip.objects.bulk_create(Clip(campaign=campaign, prompt_template=template, prompt=f"a red circle {i}", seed=i,
                                  status=ClipStatus.SUCCEEDED, progress=100) for i in range(200))
    user = MembershipFactory(workspace=campaign.workspace, role="owner").user
    token = Token.objects.create(user=user)
    client.force_login(user)
    session = client.cookies["sessionid"].value
    api, page = f"{web_server}/api/clips/", f"{web_server}{reverse('dashboard:clips')}"
    api_header, page_header = f"Authorization: Token {token.key}", f"Cookie: sessionid={session}"
    assert requests.get(api, headers={"Authorization": f"Token {token.key}"}, timeout=10).json()["count"] == 200
    assert "a red circle" in requests.get(page, cookies={"sessionid": session}, timeout=10).text

    results = {"clip list API": wrk(api, api_header, WRK_SECONDS), "dashboard clips": wrk(page, page_header,
                                                                                           WRK_SECONDS)}
    errors = sum(r["errors"] for r in results.values())
    total = sum(r["requests"] for r in results.values())
    record(f"8a. Load: wrk, {WRK_SECONDS} s x {WRK_CONNECTIONS} connections", trials=total, passed=total - errors,
           notes="; ".join(f"{name}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, "
                           f"{r['errors']} errors" for name, r in results.items()), **results)
    assert errors == 0, results


def test_ten_thousand_posts_due_in_one_minute_are_posted_once_within_x_limits(start_worker, sandbox, x_env,
                                                                               make_video, record):
    count = trials(1000, 10_000)
    per_account = 100  # the sandbox's default limit: 100 posts per user per 15 minutes, as X enforces
    template = PromptTemplateFactory()
    clip = approved_clip(make_video, template.campaign)
    ids, users = [], []
    for _ in range(count // per_account):
        creds = sandbox.create_account(**CONSUMER)  # default post limits
        account = XAccount.objects.create(
            workspace=template.campaign.workspace, handle=creds["username"], x_user_id=creds["user_id"],
            auth_kind=AuthKind.OAUTH1, access_token=creds["access_token"],
            access_token_secret=creds["access_token_secret"], min_post_gap=timedelta(0))
        ids += [p.pk for p in due_posts(clip, account, per_account)]
        users.append(creds["user_id"])
    started = time.monotonic()
    start_worker("default,publish", concurrency=4, **x_env)
    for _ in range(4):
        dispatch_due_posts.delay()
    counts = wait_until_settled(ids, timeout=900)
    elapsed = time.monotonic() - started
    on_x = collections.Counter((u, p["text"]) for u in users for p in sandbox.posts(u))
    duplicates = sum(n - 1 for n in on_x.values() if n > 1)
    posted = counts["posted"]
    limited = sum(1 for p in Post.objects.filter(pk__in=ids) if "Too Many" in (p.last_error or ""))
    record("8b. Load: 10,000 posts due in the same minute", trials=count, passed=posted, duplicates=duplicates,
           lost=count - posted - counts["failed"], stuck=count - posted - counts["failed"],
           notes=f"{count // per_account} accounts x {per_account} (the sandbox's 100 per 15 min limit; no spacing "
           "between posts of an account); "
           f"{elapsed:.0f} s = {posted / elapsed:.1f} posts/s; posts that met a 429: {limited}")
    assert posted == count, counts
    assert duplicates == 0 and len(on_x) == count
