"""v2 chunked video upload (initialize / append / finalize / STATUS), on the tweepy client's session and auth.

tweepy 4.17 only knows the retired v1.1 upload, so this speaks v2 itself: the JSON steps through tweepy's public
`Client.request` (which raises tweepy's exceptions), the multipart APPEND on the same session and auth, raising
tweepy's generic HTTPException, which errors.py maps by status code like every other answer.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import requests
import tweepy

from publishing.x.errors import Reason, XError, processing_failed
from publishing.x.transport import CANONICAL_API

Request = Callable[..., requests.Response]  # tweepy's Client.request(method, route, params=, json=)

CHUNK_SIZE = 4 * 1024 * 1024
RETRY_DELAYS = (0.5, 2.0)  # for idempotent steps only: a blip must not restart a 500 MB upload
MAX_VIDEO_BYTES = 512 * 1024 * 1024
MAX_SEGMENTS = 1000
ProgressCallback = Callable[[int, int], None]
Source = str | os.PathLike[str] | bytes | BinaryIO


@dataclass(frozen=True)
class UploadedMedia:
    media_id: str
    media_key: str
    expires_at: datetime | None
    size: int | None
    state: str  # "succeeded" once usable; "pending"/"in_progress" when returned before processing ended

    @classmethod
    def from_api(cls, data: dict[str, Any], size: int | None = None) -> UploadedMedia:
        media_id = str(data["id"])
        expires = data.get("expires_after_secs")
        info = data.get("processing_info") or {}
        return cls(media_id=media_id, media_key=str(data.get("media_key") or f"7_{media_id}"),
                   expires_at=datetime.now(UTC) + timedelta(seconds=int(expires)) if expires is not None else None,
                   size=data.get("size", size), state=info.get("state", "succeeded"))


def _open(source: Source) -> tuple[BinaryIO, bool]:
    if isinstance(source, bytes):
        return io.BytesIO(source), True
    if isinstance(source, str | os.PathLike):
        return Path(source).open("rb"), True
    return source, False


def _size(stream: BinaryIO) -> int:
    position = stream.tell()
    stream.seek(0, os.SEEK_END)
    size = stream.tell() - position
    stream.seek(position)
    return size


class ChunkedUpload:
    """One upload. `request(method, route, params=None, json=None)` is the client's tweepy request (user auth
    bound); `send(method, url, **requests_kwargs)` sends what tweepy cannot (multipart) on the same session."""

    def __init__(self, request: Request, send: Callable[..., requests.Response], *, chunk_size: int = CHUNK_SIZE,
                 max_wait_secs: float = 600.0, min_poll_secs: float = 1.0,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS, sleep: Callable[[float], None] = time.sleep) -> None:
        if not 1 <= chunk_size <= 5 * 1024 * 1024:
            raise ValueError("chunk_size must be 1 byte to 5 MiB (X accepts segments up to 5 MiB).")
        self.request = request
        self.send = send
        self.chunk_size = chunk_size
        self.max_wait_secs = max_wait_secs
        self.min_poll_secs = min_poll_secs
        self.retry_delays = retry_delays
        self.sleep = sleep

    def _multipart(self, path: str, **kwargs: Any) -> requests.Response:
        response = self.send("POST", CANONICAL_API + path, **kwargs)
        if not 200 <= response.status_code < 300:
            raise tweepy.HTTPException(response)
        return response

    def _json(self, method: str, path: str, *, idempotent: bool = False, multipart: bool = False,
              **kwargs: Any) -> dict[str, Any]:
        # APPEND (same segment_index overwrites) and STATUS are safe to repeat; INITIALIZE and FINALIZE are not.
        delays = self.retry_delays if idempotent else ()
        for attempt in range(len(delays) + 1):
            try:
                response = self._multipart(path, **kwargs) if multipart else self.request(method, path, **kwargs)
                break
            except (tweepy.HTTPException, requests.Timeout, requests.ConnectionError) as exc:
                server_error = not isinstance(exc, tweepy.HTTPException) or exc.response.status_code >= 500
                if attempt == len(delays) or not server_error:
                    raise
                self.sleep(delays[attempt])
        body = response.json()
        if "data" not in body:
            # X reports a missing media id as HTTP 200 with only `errors`.
            raise tweepy.NotFound(response)
        return body["data"]

    def run(self, source: Source, *, media_type: str = "video/mp4", media_category: str = "tweet_video",
            progress: ProgressCallback | None = None, wait: bool = True) -> UploadedMedia:
        stream, owned = _open(source)
        try:
            total = _size(stream)
            self._check_size(total)
            init = self._json("POST", "/2/media/upload/initialize",
                              json={"media_type": media_type, "total_bytes": total, "media_category": media_category})
            media_id = str(init["id"])
            sent = 0
            for index in range(MAX_SEGMENTS):
                chunk = stream.read(self.chunk_size)
                if not chunk:
                    break
                self._json("POST", f"/2/media/upload/{media_id}/append", idempotent=True, multipart=True,
                           files={"media": ("blob", chunk, "application/octet-stream")},
                           data={"segment_index": str(index)})
                sent += len(chunk)
                if progress:
                    progress(sent, total)
            data = self._json("POST", f"/2/media/upload/{media_id}/finalize")
        finally:
            if owned:
                stream.close()
        data = {**init, **data, "id": media_id}
        return UploadedMedia.from_api(self._wait(media_id, data) if wait else data, total)

    def wait(self, media_id: str) -> UploadedMedia:
        """Resume waiting on an upload finalized earlier (for example by a worker that died meanwhile)."""
        try:
            data = self._status(media_id)
        except tweepy.NotFound as exc:
            raise XError(f"X no longer knows media {media_id} (expired or never finalized): it will be uploaded "
                         "again.", permanent=False, reason_code=Reason.MEDIA_EXPIRED, status=404) from exc
        return UploadedMedia.from_api(self._wait(media_id, data))

    def _status(self, media_id: str) -> dict[str, Any]:
        return self._json("GET", "/2/media/upload", idempotent=True, params={"command": "STATUS", "media_id": media_id})

    def _check_size(self, total: int) -> None:
        if total <= 0:
            raise XError("The video file is empty: render it again.", permanent=True, reason_code=Reason.INVALID_MEDIA)
        if total > MAX_VIDEO_BYTES:
            raise XError(f"The video is {total / 2**20:.0f} MiB; X accepts at most 512 MiB: lower the bitrate.",
                         permanent=True, reason_code=Reason.INVALID_MEDIA)
        if -(-total // self.chunk_size) > MAX_SEGMENTS:
            raise ValueError("chunk_size too small: X accepts at most 1000 segments.")

    def _wait(self, media_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Poll STATUS as X asks (check_after_secs) until succeeded or failed, for at most max_wait_secs."""
        deadline = time.monotonic() + self.max_wait_secs
        while True:
            info = data.get("processing_info")
            state = info.get("state") if info else "succeeded"  # no processing_info: nothing left to process
            if state == "succeeded":
                return data
            if state == "failed":
                raise processing_failed(media_id, info.get("error"))
            wait = max(float(info.get("check_after_secs") or 0), self.min_poll_secs)
            if time.monotonic() + wait > deadline:
                raise XError(f"X was still processing the video after {self.max_wait_secs:g} s (state {state}); "
                             "the upload will be retried.", permanent=False, reason_code=Reason.PROCESSING_TIMEOUT)
            self.sleep(wait)
            data = self._status(media_id)
