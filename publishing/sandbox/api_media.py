"""v2 chunked media upload: initialize, append, finalize, STATUS, with time-based processing states."""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import sqlite3
import time
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from publishing.sandbox.config import Config
from publishing.sandbox.mp4 import InvalidMedia, validate_video
from publishing.sandbox.store import Store
from publishing.sandbox.web import ApiError, Request, Response, not_found_error

INITIALIZE_FIELDS = {"additional_owners", "media_category", "media_type", "shared", "total_bytes"}
VIDEO_CATEGORIES = {"tweet_video", "amplify_video"}
MAX_SEGMENT_BYTES = 5 * 1024 * 1024
ID_RE = re.compile(r"^[0-9]{1,19}$")


def initialize(store: Store, request: Request, config: Config) -> Response:
    body = request.json()
    extra = sorted(set(body) - INITIALIZE_FIELDS)
    if extra:
        raise ApiError.invalid_request(f"Unknown field(s): {', '.join(extra)}.", extra[0])
    media_type = body.get("media_type")
    if media_type != "video/mp4":
        raise ApiError.invalid_request("The sandbox accepts media_type video/mp4 only.", "media_type")
    category = body.get("media_category", "tweet_video")
    if category not in VIDEO_CATEGORIES:
        raise ApiError.invalid_request(f"media_category must be one of {sorted(VIDEO_CATEGORIES)}.", "media_category")
    total = body.get("total_bytes")
    if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
        raise ApiError.invalid_request("total_bytes must be a positive integer.", "total_bytes")
    if total > config.max_video_bytes:
        raise ApiError.invalid_request(
            f"total_bytes {total} exceeds the {config.max_video_bytes} byte limit for video.", "total_bytes")
    now = time.time()
    with store.tx() as db:
        media_id = Store.next_id(db, "media")
        db.execute(
            "INSERT INTO media (id, media_key, user_id, media_type, media_category, total_bytes, state, created_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?, ?, 'uploading', ?, ?)",
            (media_id, f"7_{media_id}", request.user_id, media_type, category, total, now,
             now + config.media_expires_secs),
        )
    return Response(200, {"data": {"id": media_id, "media_key": f"7_{media_id}",
                                   "expires_after_secs": int(config.media_expires_secs)}})


def _owned_media(db: sqlite3.Connection, request: Request, media_id: str) -> sqlite3.Row:
    if not ID_RE.match(media_id):
        raise ApiError.invalid_request(f"The `id` value [{media_id}] is not a valid media id.", "id")
    row = db.execute("SELECT * FROM media WHERE id = ?", (media_id,)).fetchone()
    if row is None or row["user_id"] != request.user_id:
        raise ApiError.not_found(f"Could not find media with id: [{media_id}].", "media", media_id)
    if row["expires_at"] < time.time():
        raise ApiError.invalid_request(f"Media {media_id} has expired: upload it again.", "id")
    return row


def _read_segment(request: Request) -> tuple[int, bytes]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + request.body)
        fields: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                fields[str(name)] = part.get_payload(decode=True) or b""
        media, index = fields.get("media"), fields.get("segment_index", b"").decode("ascii", "replace")
    else:
        body = request.json()
        try:
            media = base64.b64decode(body.get("media", ""), validate=True)
        except (binascii.Error, TypeError) as exc:
            raise ApiError.invalid_request("media must be base64 when sent as JSON.", "media") from exc
        index = str(body.get("segment_index", ""))
    if media is None:
        raise ApiError.invalid_request("The `media` field is required.", "media")
    if not index.isdigit() or not 0 <= int(index) <= 999:
        raise ApiError.invalid_request("segment_index must be an integer from 0 to 999.", "segment_index")
    if len(media) > MAX_SEGMENT_BYTES:
        raise ApiError.invalid_request(f"A segment may hold at most {MAX_SEGMENT_BYTES} bytes.", "media")
    return int(index), media


def append(store: Store, request: Request, media_id: str) -> Response:
    index, chunk = _read_segment(request)
    with store.tx() as db:
        row = _owned_media(db, request, media_id)
        if row["state"] != "uploading":
            raise ApiError.invalid_request(f"Media {media_id} is already finalized.", "id")
        db.execute("INSERT OR REPLACE INTO media_segments (media_id, segment_index, data) VALUES (?, ?, ?)",
                   (media_id, index, chunk))
        (stored,) = db.execute("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM media_segments WHERE media_id = ?",
                               (media_id,)).fetchone()
        if stored > row["total_bytes"]:
            raise ApiError.invalid_request(
                f"Segments add up to {stored} bytes, more than the {row['total_bytes']} declared at initialize.")
    return Response(200, {"data": {"expires_at": int(row["expires_at"])}})


def finalize(store: Store, request: Request, media_id: str, config: Config, fail_processing: bool) -> Response:
    with store.tx() as db:
        row = _owned_media(db, request, media_id)
        if row["state"] != "uploading":
            return Response(200, {"data": media_json(db, row, config)})
        segments = db.execute("SELECT segment_index, data FROM media_segments WHERE media_id = ? "
                              "ORDER BY segment_index", (media_id,)).fetchall()
        if [s["segment_index"] for s in segments] != list(range(len(segments))):
            raise ApiError.invalid_request("Segments must be numbered 0, 1, 2... without gaps.", "segment_index")
        data = b"".join(s["data"] for s in segments)
        if len(data) != row["total_bytes"]:
            raise ApiError.invalid_request(
                f"Uploaded {len(data)} bytes but initialize declared total_bytes {row['total_bytes']}.")
        digest = hashlib.sha256(data).hexdigest()
        db.execute("INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?, ?)", (digest, data))
        outcome, error_name, error_message, info = "succeeded", None, None, None
        try:
            info = validate_video(data, config.max_video_bytes)
        except InvalidMedia as exc:
            outcome, error_name, error_message = "failed", exc.name, str(exc)
        if fail_processing and outcome == "succeeded":
            outcome, error_name, error_message = ("failed", "InternalError",
                                                  "Media processing failed while transcoding. Upload it again.")
        db.execute(
            "UPDATE media SET state = 'pending', outcome = ?, error_name = ?, error_message = ?, duration_ms = ?, "
            "width = ?, height = ?, finalized_at = ?, sha256 = ? WHERE id = ?",
            (outcome, error_name, error_message, int(info.duration_s * 1000) if info else None,
             info.width if info else None, info.height if info else None, time.time(), digest, media_id),
        )
        db.execute("DELETE FROM media_segments WHERE media_id = ?", (media_id,))
        row = db.execute("SELECT * FROM media WHERE id = ?", (media_id,)).fetchone()
        return Response(200, {"data": media_json(db, row, config)})


def status(store: Store, request: Request, config: Config) -> Response:
    query = request.query
    if query.get("command", "STATUS") != "STATUS":
        raise ApiError.invalid_request("command must be STATUS.", "command")
    media_id = query.get("media_id", "")
    with store.tx() as db:
        if not ID_RE.match(media_id):
            raise ApiError.invalid_request("media_id is required and must be numeric.", "media_id")
        row = db.execute("SELECT * FROM media WHERE id = ?", (media_id,)).fetchone()
        if row is None or row["user_id"] != request.user_id:
            return Response(200, {"errors": [not_found_error("media", media_id, "media_id")]})
        if row["state"] == "uploading":
            raise ApiError.invalid_request(f"Media {media_id} has not been finalized yet.", "media_id")
        return Response(200, {"data": media_json(db, row, config)})


def current_state(db: sqlite3.Connection, row: sqlite3.Row, config: Config) -> tuple[str, int, int]:
    """(state, progress_percent, check_after_secs) now; processing time elapses with the wall clock."""
    if row["state"] in ("succeeded", "failed", "uploading"):
        return row["state"], 100, 0
    elapsed = time.time() - row["finalized_at"]
    if elapsed >= config.processing_secs:
        db.execute("UPDATE media SET state = outcome WHERE id = ?", (row["id"],))
        return row["outcome"], 100, 0
    # Whole seconds as on X; under a second left reads 0 ("check again soon"), which keeps tests fast.
    check_after = math.floor(config.processing_secs - elapsed)
    if elapsed < config.processing_secs / 4:
        return "pending", 0, check_after
    return "in_progress", int(100 * elapsed / config.processing_secs), check_after


def media_json(db: sqlite3.Connection, row: sqlite3.Row, config: Config) -> dict[str, Any]:
    state, progress, check_after = current_state(db, row, config)
    info: dict[str, Any] = {"state": state, "progress_percent": progress}
    if state in ("pending", "in_progress"):
        info["check_after_secs"] = check_after
    if state == "failed":
        # Outside the spec's schema, but X sends it (and documents it) for failed processing.
        info["error"] = {"code": 1, "name": row["error_name"], "message": row["error_message"]}
    data: dict[str, Any] = {
        "id": row["id"], "media_key": row["media_key"], "size": row["total_bytes"],
        "expires_after_secs": max(0, int(row["expires_at"] - time.time())), "processing_info": info,
    }
    if state == "succeeded":
        data["video"] = {"video_type": row["media_type"]}
    return data
