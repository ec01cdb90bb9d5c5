"""The sandbox itself: spec-shaped errors, the clip page, persistence, concurrency, MP4 checks, CLI entry."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from publishing.sandbox import make_server
from publishing.sandbox.mp4 import InvalidMedia, probe
from publishing.x import Reason, XError
from tests.publishing.x.sandbox_control import SandboxControl

ROOT = Path(__file__).resolve().parents[3]


def test_the_page_lists_posted_clips_with_playable_video(sandbox, account, client, make_video):
    video = make_video(1.0)
    media = client.upload_video(video, min_poll_secs=0.05)
    client.create_post("a <b>clip</b>", media_ids=[media.media_id], made_with_ai=True)

    page = requests.get(f"{sandbox.url}/", timeout=5)
    assert page.headers["Content-Type"].startswith("text/html")
    assert f'<video controls preload="metadata" width="360" src="/_sandbox/media/{media.media_id}">' in page.text
    assert "a &lt;b&gt;clip&lt;/b&gt;" in page.text and "made with AI" in page.text
    whole = requests.get(f"{sandbox.url}/_sandbox/media/{media.media_id}", timeout=5)
    assert whole.content == video.read_bytes() and whole.headers["Content-Type"] == "video/mp4"
    part = requests.get(f"{sandbox.url}/_sandbox/media/{media.media_id}", headers={"Range": "bytes=0-99"}, timeout=5)
    assert part.status_code == 206 and part.content == video.read_bytes()[:100]


def test_the_same_clip_uploaded_twice_is_stored_once(sandbox, account, client, make_video):
    first = client.upload_video(make_video(1.0), min_poll_secs=0.05)
    second = client.upload_video(make_video(1.0), min_poll_secs=0.05)
    with sandbox.server.sandbox.store.tx() as db:
        digests = {r[0] for r in db.execute("SELECT sha256 FROM media WHERE id IN (?, ?)",
                                            (first.media_id, second.media_id))}
        (copies,) = db.execute("SELECT COUNT(*) FROM blobs WHERE sha256 = ?", (next(iter(digests)),)).fetchone()
    assert len(digests) == 1 and copies == 1


def test_errors_use_the_problem_format(sandbox, account, client):
    missing = requests.get(f"{sandbox.url}/2/nothing-here", timeout=5)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"
    assert {"title", "detail", "type", "status"} <= set(missing.json())
    bad = client._send("POST", f"{sandbox.url}/2/tweets", json={"text": "hi", "colour": "red"})
    body = bad.json()
    assert bad.status_code == 400 and body["errors"][0]["type"].endswith("/invalid-request")
    assert "colour" in body["errors"][0]["detail"]


def test_a_caption_over_280_weighted_characters_is_refused(client):
    with pytest.raises(XError) as caught:
        client.create_post("🦊" * 141)  # emoji weigh 2
    assert caught.value.permanent and caught.value.reason_code == Reason.TEXT_TOO_LONG
    assert "282 weighted characters" in caught.value.message


@pytest.mark.slow
def test_1200_concurrent_posts_from_8_threads_are_all_kept_once(sandbox):
    accounts = [sandbox.create_account(post_limit=1000) for _ in range(4)]
    errors: list[BaseException] = []

    def publish(account, worker):
        client = sandbox.client(account)
        try:
            for i in range(150):
                client.create_post(f"worker {worker} post {i}")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(accounts[w % 4], w)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    posts = [p for a in accounts for p in sandbox.posts(a["user_id"])]
    assert len(posts) == 1200 and len({p["id"] for p in posts}) == 1200


def test_state_survives_a_restart(tmp_path, make_video):
    db = tmp_path / "x.sqlite3"
    first = make_server(db_path=db)
    first.start_in_thread()
    control = SandboxControl(first)
    account = control.create_account(username="persistent")
    control.client(account).create_post("still here")
    first.stop()

    second = make_server(db_path=db)
    second.start_in_thread()
    try:
        control = SandboxControl(second)
        assert [p["text"] for p in control.posts(account["user_id"])] == ["still here"]
        assert control.client(account).get_me().username == "persistent"
    finally:
        second.stop()


def test_it_refuses_to_bind_beyond_loopback():
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        make_server(host="0.0.0.0")  # noqa: S104 (the point of the test)


def test_truncated_or_foreign_files_are_not_mp4(make_video):
    data = make_video(1.0).read_bytes()
    info = probe(data)
    assert info.codecs == {"avc1"} and info.duration_s == pytest.approx(1.0) and (info.width, info.height) == (64, 64)
    with pytest.raises(InvalidMedia):
        probe(data[: len(data) // 2])
    with pytest.raises(InvalidMedia, match="ftyp"):
        probe(b"RIFF" + data[4:])


def test_python_dash_m_serves_on_the_given_port(tmp_path):
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "publishing.sandbox", "--port", str(port), "--db", str(tmp_path / "cli.sqlite3")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        assert page.status_code == 200 and "X sandbox" in page.text
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (tmp_path / "cli.sqlite3").exists()


def test_a_demo_seed_can_fix_credentials_and_run_twice(sandbox):
    seed = {"username": "clipcast_demo", "consumer_key": "demo-consumer-key", "consumer_secret": "demo-consumer-secret",
            "client_id": "demo-client-id", "client_secret": "demo-client-secret",
            "access_token": "1500000000000009999-demo", "access_token_secret": "demo-token-secret"}
    first = sandbox.create_account(**seed)
    second = sandbox.create_account(**seed)
    assert first["user_id"] == second["user_id"] and second["access_token"] == seed["access_token"]
    assert sandbox.client(first).get_me().username == "clipcast_demo"


@pytest.mark.parametrize("body", ['{"impressions_per_sec": 1e309}', '{"like_rate": NaN}',
                                  '{"impressions_per_sec": 5, "rules": 5}',
                                  '{"like_rate": 0.5, "rules": [{"text_contains": "blue", "like_rate": Infinity}]}'])
def test_a_refused_audience_changes_nothing_and_posts_keep_their_metrics(sandbox, account, client, body):
    post = client.create_post("a blue square")
    before = requests.get(f"{sandbox.url}/_sandbox/audience", timeout=5).json()

    refused = requests.post(f"{sandbox.url}/_sandbox/audience", data=body, timeout=5)

    assert refused.status_code == 400 and "must be" in refused.json()["detail"], refused.text
    assert requests.get(f"{sandbox.url}/_sandbox/audience", timeout=5).json() == before
    assert client.get_metrics(post.id) is not None


def test_an_infinite_config_value_is_refused(sandbox):
    refused = requests.post(f"{sandbox.url}/_sandbox/config", data='{"processing_secs": 1e309}', timeout=5)
    assert refused.status_code == 400 and "finite" in refused.text
