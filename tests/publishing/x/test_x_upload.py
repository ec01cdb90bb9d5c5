"""Chunked v2 upload through the real tweepy session against the sandbox."""

from __future__ import annotations

import pytest

from publishing.x import Reason, XError


def test_it_uploads_a_video_in_chunks_and_waits_for_processing(sandbox, account, make_video):
    client = sandbox.client(account)
    video = make_video(1.0)
    size = video.stat().st_size
    seen: list[tuple[int, int]] = []

    media = client.upload_video(video, chunk_size=1024, progress=lambda sent, total: seen.append((sent, total)),
                                min_poll_secs=0.05)

    assert media.media_id.isdigit() and media.media_key == f"7_{media.media_id}"
    assert media.size == size and media.expires_at is not None
    assert len(seen) == -(-size // 1024) and seen[-1] == (size, size)
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    status = client._send("GET", f"{sandbox.url}/2/media/upload",
                          params={"command": "STATUS", "media_id": media.media_id}).json()
    assert status["data"]["processing_info"]["state"] == "succeeded"


def test_it_accepts_bytes_and_open_files(sandbox, account, make_video):
    client = sandbox.client(account)
    video = make_video(1.0)
    with video.open("rb") as handle:
        from_file = client.upload_video(handle, min_poll_secs=0.05)
    from_bytes = client.upload_video(video.read_bytes(), min_poll_secs=0.05)
    assert from_file.media_id != from_bytes.media_id


def test_a_processing_failure_is_permanent(sandbox, account, make_video):
    sandbox.fault(account["user_id"], "processing_failure")
    with pytest.raises(XError) as caught:
        sandbox.client(account).upload_video(make_video(1.0), min_poll_secs=0.05)
    assert caught.value.permanent
    assert caught.value.reason_code == Reason.PROCESSING_FAILED
    assert "upload it again" in caught.value.message.lower()


def test_a_video_longer_than_140_seconds_is_refused(sandbox, account, make_video):
    with pytest.raises(XError) as caught:
        sandbox.client(account).upload_video(make_video(141.0), min_poll_secs=0.05)
    assert caught.value.permanent and caught.value.reason_code == Reason.VIDEO_TOO_LONG
    assert "0.5-140 s" in caught.value.message


def test_a_video_that_is_not_h264_is_refused(sandbox, account, make_video):
    with pytest.raises(XError) as caught:
        sandbox.client(account).upload_video(make_video(1.0, codec="mpeg4"), min_poll_secs=0.05)
    assert caught.value.permanent and caught.value.reason_code == Reason.INVALID_MEDIA
    assert "H.264" in caught.value.message


def test_a_file_that_is_not_an_mp4_is_refused(sandbox, account):
    with pytest.raises(XError) as caught:
        sandbox.client(account).upload_video(b"\x00" * 64 + b"definitely not a video", min_poll_secs=0.05)
    assert caught.value.reason_code == Reason.INVALID_MEDIA


def test_the_processing_wait_is_bounded(sandbox, account, make_video):
    sandbox.configure(processing_secs=30)
    with pytest.raises(XError) as caught:
        sandbox.client(account).upload_video(make_video(1.0), max_wait_secs=0.5, min_poll_secs=0.05)
    assert caught.value.transient and caught.value.reason_code == Reason.PROCESSING_TIMEOUT


def test_an_empty_file_fails_before_any_call(sandbox, account):
    with pytest.raises(XError) as caught:
        sandbox.client(account).upload_video(b"")
    assert caught.value.permanent and "empty" in caught.value.message


def test_a_5xx_on_one_chunk_is_retried_without_restarting_the_upload(sandbox, account, make_video):
    sandbox.fault(account["user_id"], "server_error", path="/2/media/upload/*/append", count=2)
    seen: list[int] = []
    media = sandbox.client(account).upload_video(make_video(1.0), chunk_size=1024, min_poll_secs=0.05,
                                                 retry_delays=(0.01, 0.01), progress=lambda sent, _: seen.append(sent))
    assert media.media_id and seen[-1] == make_video(1.0).stat().st_size


def test_a_chunk_failing_three_times_gives_up_with_a_transient_error(sandbox, account, make_video):
    sandbox.fault(account["user_id"], "server_error", path="/2/media/upload/*/append", count=3)
    with pytest.raises(XError) as caught:
        sandbox.client(account).upload_video(make_video(1.0), min_poll_secs=0.05, retry_delays=(0.01, 0.01))
    assert caught.value.transient and caught.value.reason_code == Reason.UNAVAILABLE


def test_the_wait_can_be_resumed_from_the_media_id_alone(sandbox, account, make_video):
    sandbox.configure(processing_secs=0.5)
    uploaded = sandbox.client(account).upload_video(make_video(1.0), wait=False)
    assert uploaded.state in ("pending", "in_progress")
    # Another worker (a fresh client) picks the upload up where the first left it.
    ready = sandbox.client(account).wait_for_media(uploaded.media_id, min_poll_secs=0.05)
    assert ready.state == "succeeded" and ready.media_key == uploaded.media_key and ready.size == uploaded.size


def test_waiting_on_an_unknown_media_id_asks_for_a_new_upload(sandbox, account):
    with pytest.raises(XError) as caught:
        sandbox.client(account).wait_for_media("1870000000999999999")
    assert caught.value.transient and caught.value.reason_code == Reason.MEDIA_EXPIRED
