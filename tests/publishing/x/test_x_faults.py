"""Rate limits, X outages and timeouts become transient XErrors with the right retry time."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from publishing.x import Reason, XError


def test_a_429_with_reset_says_when_to_retry(sandbox, account, client):
    sandbox.fault(account["user_id"], "rate_limit", reset_in=120)
    with pytest.raises(XError) as caught:
        client.create_post("hello")
    error = caught.value
    assert error.transient and error.reason_code == Reason.RATE_LIMITED and error.status == 429
    assert error.retry_at is not None
    assert 100 < (error.retry_at - datetime.now(UTC)).total_seconds() <= 121
    assert "UTC" in error.message
    client.create_post("hello")  # the fault was for one call only
    assert len(sandbox.posts(account["user_id"])) == 1


def test_a_429_without_reset_is_transient_with_no_retry_time(sandbox, account, client):
    sandbox.fault(account["user_id"], "rate_limit", reset_header=False, count=2)
    for _ in range(2):
        with pytest.raises(XError) as caught:
            client.get_me()
        assert caught.value.transient and caught.value.retry_at is None
        assert "no reset time" in caught.value.message
    assert client.get_me().id == account["user_id"]


def test_the_per_account_post_limit_answers_429_with_rate_headers(sandbox):
    account = sandbox.create_account(post_limit=2, post_window_secs=900)
    client = sandbox.client(account)
    client.create_post("one")
    client.create_post("two")
    with pytest.raises(XError) as caught:
        client.create_post("three")
    error = caught.value
    assert error.reason_code == Reason.RATE_LIMITED and error.retry_at is not None
    assert 890 <= error.retry_at.timestamp() - time.time() <= 902
    headers = error.__cause__.response.headers
    assert headers["x-rate-limit-limit"] == "2" and headers["x-rate-limit-remaining"] == "0"
    assert len(sandbox.posts(account["user_id"])) == 2


def test_a_5xx_is_transient(sandbox, account, client):
    sandbox.fault(account["user_id"], "server_error", status=503)
    with pytest.raises(XError) as caught:
        client.create_post("during an outage")
    assert caught.value.transient and caught.value.reason_code == Reason.UNAVAILABLE and caught.value.status == 503
    assert sandbox.posts(account["user_id"]) == []


def test_a_5xx_during_upload_is_transient(sandbox, account, client, make_video):
    sandbox.fault(account["user_id"], "server_error", status=500, path_prefix="/2/media/upload/")
    with pytest.raises(XError) as caught:
        client.upload_video(make_video(1.0))
    assert caught.value.transient and caught.value.status == 500


def test_a_slow_answer_times_out_and_the_post_may_still_land(sandbox, account, make_video):
    client = sandbox.client(account, timeout=0.3)
    media = client.upload_video(make_video(1.0), min_poll_secs=0.05)
    sandbox.fault(account["user_id"], "delay", delay=1.0)
    started = time.monotonic()
    with pytest.raises(XError) as caught:
        client.create_post("slow network", media_ids=[media.media_id])
    assert time.monotonic() - started < 0.9
    assert caught.value.transient and caught.value.reason_code == Reason.TIMEOUT
    # X may have created it anyway: this is why publishing reconciles before retrying.
    deadline = time.monotonic() + 3
    while not sandbox.posts(account["user_id"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.find_recent_post(media_id=media.media_id) is not None


def test_an_unreachable_server_is_a_transient_connection_error(sandbox, account):
    from publishing.x import XClient
    from tests.publishing.x.sandbox_control import oauth1_of

    client = XClient(oauth1=oauth1_of(account), api_base_url="http://127.0.0.1:9", timeout=1)
    with pytest.raises(XError) as caught:
        client.get_me()
    assert caught.value.transient and caught.value.reason_code == Reason.CONNECTION


def test_the_24_hour_cap_defers_to_its_own_reset(sandbox):
    account = sandbox.create_account(post_limit=100, daily_post_limit=1)
    client = sandbox.client(account)
    client.create_post("the only one today")
    with pytest.raises(XError) as caught:
        client.create_post("one too many")
    assert caught.value.reason_code == Reason.RATE_LIMITED
    assert 86000 < caught.value.retry_at.timestamp() - time.time() <= 86402
