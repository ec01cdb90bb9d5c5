"""Posts: create (duplicate and rate-limit checks), look up, user timeline, delete, public metrics, users/me."""

from __future__ import annotations

import sqlite3
import time
import unicodedata
from datetime import UTC, datetime
from typing import Any

from publishing.sandbox.api_media import ID_RE, current_state
from publishing.sandbox.config import Audience, Config
from publishing.sandbox.store import Store
from publishing.sandbox.web import ApiError, Request, Response, not_found_error

DEFAULT_AUDIENCE = Audience()

CREATE_FIELDS = {
    "card_uri", "community_id", "direct_message_deep_link", "edit_options", "for_super_followers_only", "geo",
    "made_with_ai", "media", "nullcast", "paid_partnership", "poll", "quote_tweet_id", "reply", "reply_settings",
    "share_with_followers", "text",
}
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
MAX_WEIGHTED_LENGTH = 280


def weighted_length(text: str) -> int:
    try:
        from twitter_text import parse_tweet
    except ImportError:  # the sandbox stays usable without the optional parser
        return len(text)
    return parse_tweet(text).weightedLength


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def _window(db: sqlite3.Connection, user_id: str, now: float, limit: int, window: int) -> tuple[int, int, int]:
    """(limit, remaining, reset epoch) of a sliding window over the user's posts."""
    used, oldest = db.execute("SELECT COUNT(*), MIN(created_at) FROM posts WHERE user_id = ? AND created_at > ?",
                              (user_id, now - window)).fetchone()
    return limit, max(0, limit - used), int((oldest if oldest is not None else now) + window) + 1


def rate_headers(db: sqlite3.Connection, user_id: str, now: float) -> tuple[dict[str, str], bool]:
    """X's headers for POST /2/tweets: the 15-minute window, and the user's 24-hour cap."""
    account = db.execute("SELECT post_limit, post_window_secs, daily_post_limit FROM accounts WHERE user_id = ?",
                         (user_id,)).fetchone()
    limit, remaining, reset = _window(db, user_id, now, account["post_limit"], account["post_window_secs"])
    day_limit, day_remaining, day_reset = _window(db, user_id, now, account["daily_post_limit"], 86400)
    headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining),
               "x-rate-limit-reset": str(reset), "x-user-limit-24hour-limit": str(day_limit),
               "x-user-limit-24hour-remaining": str(day_remaining), "x-user-limit-24hour-reset": str(day_reset)}
    return headers, remaining == 0 or day_remaining == 0


def _check_media(db: sqlite3.Connection, request: Request, media: Any, config: Config) -> sqlite3.Row | None:
    if media is None:
        return None
    if not isinstance(media, dict) or not isinstance(media.get("media_ids"), list):
        raise ApiError.invalid_request("media.media_ids must be a list of media ids.", "media.media_ids")
    ids = media["media_ids"]
    if not 1 <= len(ids) <= 4 or not all(isinstance(i, str) and ID_RE.match(i) for i in ids):
        raise ApiError.invalid_request("media.media_ids must hold 1 to 4 numeric string ids.", "media.media_ids")
    if len(ids) > 1:
        raise ApiError.invalid_request("A post may carry one video only.", "media.media_ids")
    row = db.execute("SELECT * FROM media WHERE id = ?", (ids[0],)).fetchone()
    if row is None or row["user_id"] != request.user_id:
        raise ApiError.invalid_request("Your media IDs are invalid.", "media.media_ids")
    if row["expires_at"] < time.time():
        raise ApiError.invalid_request(f"Media {ids[0]} has expired: upload it again.", "media.media_ids")
    state, _, _ = current_state(db, row, config)
    if state == "failed":
        raise ApiError.invalid_request(f"Media {ids[0]} failed processing: {row['error_message']}", "media.media_ids")
    if state != "succeeded":
        raise ApiError.invalid_request(f"Media {ids[0]} is not ready ({state}): wait for processing to succeed.",
                                       "media.media_ids")
    return row


def create(store: Store, request: Request, config: Config) -> Response:
    body = request.json()
    extra = sorted(set(body) - CREATE_FIELDS)
    if extra:
        raise ApiError.invalid_request(f"Unknown field(s): {', '.join(extra)}.", extra[0])
    text = body.get("text", "")
    if not isinstance(text, str):
        raise ApiError.invalid_request("text must be a string.", "text")
    text = unicodedata.normalize("NFC", text)
    if not isinstance(body.get("made_with_ai", False), bool):
        raise ApiError.invalid_request("made_with_ai must be a boolean.", "made_with_ai")
    if not text.strip() and "media" not in body:
        raise ApiError.invalid_request("A post needs text or media.", "text")
    length = weighted_length(text)
    if length > MAX_WEIGHTED_LENGTH:
        raise ApiError.invalid_request(f"Text is {length} weighted characters; the limit is {MAX_WEIGHTED_LENGTH}.",
                                       "text")
    now = time.time()
    with store.tx() as db:
        headers, exhausted = rate_headers(db, request.user_id, now)
        if exhausted:
            raise ApiError.problem(429, "Too Many Requests", "Too Many Requests", headers=headers)
        media = _check_media(db, request, body.get("media"), config)
        if text.strip() and db.execute(
            "SELECT 1 FROM posts WHERE user_id = ? AND text = ? AND deleted_at IS NULL AND created_at > ?",
            (request.user_id, text, now - config.duplicate_window_secs),
        ).fetchone():
            raise ApiError.problem(403, "Forbidden", DUPLICATE_DETAIL, headers=headers)
        post_id = Store.next_id(db, "post")
        db.execute(
            "INSERT INTO posts (id, user_id, text, media_id, media_key, made_with_ai, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (post_id, request.user_id, text, media["id"] if media else None, media["media_key"] if media else None,
             int(body.get("made_with_ai", False)), now),
        )
        headers, _ = rate_headers(db, request.user_id, now)
    shown = shown_text(text, post_id, media["media_key"] if media else None)
    return Response(201, {"data": {"id": post_id, "text": shown, "edit_history_tweet_ids": [post_id]}}, headers)


def public_metrics(row: sqlite3.Row, now: float, audience: Audience = DEFAULT_AUDIENCE) -> dict[str, int]:
    """Deterministic numbers that only grow with the post's age, so metric refreshes see progress."""
    age = max(0.0, now - row["created_at"])
    impressions = int(age * audience.impressions_per_sec) + int(row["id"]) % 97
    reposts = impressions // 200
    return {
        "impression_count": impressions, "like_count": int(impressions * audience.like_rate_for(row["text"])),
        "reply_count": impressions // 300,
        "retweet_count": reposts, "repost_count": reposts, "quote_count": impressions // 1000,
        "bookmark_count": impressions // 150,
    }


def shown_text(text: str, post_id: str, media_key: str | None) -> str:
    """X appends a t.co link to the media to the text of a post with media, so clients must not expect it back
    verbatim."""
    return f"{text} https://t.co/{int(post_id) % 10**10:010d}" if media_key else text


def post_json(row: sqlite3.Row, fields: set[str], now: float,
              expansions: frozenset[str] = frozenset(), audience: Audience = DEFAULT_AUDIENCE) -> dict[str, Any]:
    # X answers `edit_history_tweet_ids` (tweepy needs it); spec 2.167 renames it, so send both.
    text = shown_text(row["text"], row["id"], row["media_key"])
    data: dict[str, Any] = {"id": row["id"], "text": text, "edit_history_tweet_ids": [row["id"]],
                            "edit_history_post_ids": [row["id"]]}
    if "author_id" in fields:
        data["author_id"] = row["user_id"]
    if "created_at" in fields:
        data["created_at"] = iso(row["created_at"])
    if "public_metrics" in fields:
        data["public_metrics"] = public_metrics(row, now, audience)
    if ("attachments" in fields or "attachments.media_keys" in expansions) and row["media_key"]:
        data["attachments"] = {"media_keys": [row["media_key"]]}
    return data


MEDIA_TYPES = {"7": "video", "3": "photo", "16": "animated_gif"}


def media_json(media_key: str, fields: set[str]) -> dict[str, Any]:
    """A Media object of `includes.media`: media_key and type always, as X sends them."""
    data: dict[str, Any] = {"media_key": media_key, "type": MEDIA_TYPES.get(media_key.partition("_")[0], "video")}
    if "duration_ms" in fields:
        data["duration_ms"] = 0
    return data


def _fields(request: Request) -> set[str]:
    # Spec 2.167 names the parameter post.fields; X (and tweepy) still send tweet.fields.
    query = request.query
    return {f for name in ("post.fields", "tweet.fields") for f in query.get(name, "").split(",") if f}


def _expansions(request: Request) -> frozenset[str]:
    return frozenset(f for f in request.query.get("expansions", "").split(",") if f)


def _with_includes(body: dict[str, Any], rows: list[sqlite3.Row], request: Request) -> dict[str, Any]:
    """`includes.media` for expansions=attachments.media_keys: each attached media once, in order of first use."""
    if "attachments.media_keys" not in _expansions(request):
        return body
    keys = list(dict.fromkeys(r["media_key"] for r in rows if r["media_key"]))
    if keys:
        fields = {f for f in request.query.get("media.fields", "").split(",") if f}
        body["includes"] = {"media": [media_json(k, fields) for k in keys]}
    return body


def get_post(store: Store, request: Request, post_id: str, audience: Audience = DEFAULT_AUDIENCE) -> Response:
    if not ID_RE.match(post_id):
        raise ApiError.invalid_request(f"The `id` query parameter value [{post_id}] is not valid.", "id")
    with store.tx() as db:
        row = db.execute("SELECT * FROM posts WHERE id = ? AND deleted_at IS NULL", (post_id,)).fetchone()
    if row is None:
        return Response(200, {"errors": [not_found_error("tweet", post_id)]})
    body = {"data": post_json(row, _fields(request), time.time(), _expansions(request), audience)}
    return Response(200, _with_includes(body, [row], request))


def get_posts(store: Store, request: Request, audience: Audience = DEFAULT_AUDIENCE) -> Response:
    """GET /2/tweets?ids=1,2,3 (up to 100): found posts in `data`, missing ones as partial `errors`."""
    ids = [i for i in request.query.get("ids", "").split(",") if i]
    if not 1 <= len(ids) <= 100 or not all(ID_RE.match(i) for i in ids):
        raise ApiError.invalid_request("ids must list 1 to 100 numeric post ids.", "ids")
    with store.tx() as db:
        marks = ",".join("?" * len(ids))
        rows = {r["id"]: r for r in db.execute(
            f"SELECT * FROM posts WHERE id IN ({marks}) AND deleted_at IS NULL", ids).fetchall()}  # noqa: S608
    now, fields, expansions = time.time(), _fields(request), _expansions(request)
    body: dict[str, Any] = {}
    found = [post_json(rows[i], fields, now, expansions, audience) for i in ids if i in rows]
    missing = [not_found_error("tweet", i, "ids") for i in ids if i not in rows]
    if found:
        body["data"] = found
    if missing:
        body["errors"] = missing
    return Response(200, _with_includes(body, [rows[i] for i in ids if i in rows], request))


def user_posts(store: Store, request: Request, user_id: str, extra_lag: float = 0.0,
               audience: Audience = DEFAULT_AUDIENCE) -> Response:
    """GET /2/users/{id}/tweets, newest first; posts younger than the account's timeline lag (or `extra_lag`, from
    a stale_timeline fault) are not in it yet."""
    query = request.query
    try:
        max_results = int(query.get("max_results", "10"))
    except ValueError:
        max_results = -1
    if not 5 <= max_results <= 100:
        raise ApiError.invalid_request("max_results must be between 5 and 100.", "max_results")
    clauses, args = ["user_id = ?", "deleted_at IS NULL"], [user_id]
    for name, op in (("pagination_token", "<"), ("until_id", "<"), ("since_id", ">")):
        value = query.get(name)
        if value is not None:
            if not ID_RE.match(value):
                raise ApiError.invalid_request(f"{name} is not valid.", name)
            clauses.append(f"CAST(id AS INTEGER) {op} ?")
            args.append(int(value))
    with store.tx() as db:
        account = db.execute("SELECT timeline_lag_secs FROM accounts WHERE user_id = ?", (user_id,)).fetchone()
        if account is None:
            return Response(200, {"errors": [not_found_error("user", user_id)]})
        lag = max(account["timeline_lag_secs"], extra_lag)
        if lag:
            clauses.append("created_at <= ?")
            args.append(time.time() - lag)
        rows = db.execute(f"SELECT * FROM posts WHERE {' AND '.join(clauses)} "  # noqa: S608 (fixed fragments)
                          "ORDER BY CAST(id AS INTEGER) DESC LIMIT ?", (*args, max_results + 1)).fetchall()
    page, more = rows[:max_results], len(rows) > max_results
    now, fields, expansions = time.time(), _fields(request), _expansions(request)
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
    if more:
        meta["next_token"] = page[-1]["id"]
    body: dict[str, Any] = {"meta": meta}
    if page:
        body["data"] = [post_json(r, fields, now, expansions, audience) for r in page]
    return Response(200, _with_includes(body, page, request))


def delete(store: Store, request: Request, post_id: str) -> Response:
    if not ID_RE.match(post_id):
        raise ApiError.invalid_request(f"The `id` value [{post_id}] is not valid.", "id")
    with store.tx() as db:
        row = db.execute("SELECT user_id FROM posts WHERE id = ? AND deleted_at IS NULL", (post_id,)).fetchone()
        if row is None:
            raise ApiError.not_found(f"Could not find tweet with id: [{post_id}].", "tweet", post_id)
        if row["user_id"] != request.user_id:
            raise ApiError.forbidden("You are not allowed to delete a post of another user.")
        db.execute("UPDATE posts SET deleted_at = ? WHERE id = ?", (time.time(), post_id))
    return Response(200, {"data": {"deleted": True}})


def me(store: Store, request: Request) -> Response:
    with store.tx() as db:
        row = db.execute("SELECT * FROM accounts WHERE user_id = ?", (request.user_id,)).fetchone()
        (count,) = db.execute("SELECT COUNT(*) FROM posts WHERE user_id = ? AND deleted_at IS NULL",
                              (request.user_id,)).fetchone()
    data: dict[str, Any] = {"id": row["user_id"], "name": row["name"], "username": row["username"]}
    fields = {f for f in request.query.get("user.fields", "").split(",") if f}
    if "created_at" in fields:
        data["created_at"] = iso(row["created_at"])
    if "public_metrics" in fields:
        data["public_metrics"] = {"followers_count": 0, "following_count": 0, "tweet_count": count,
                                  "listed_count": 0, "like_count": 0}
    for name, value in (("protected", False), ("verified", False), ("description", "")):
        if name in fields:
            data[name] = value
    return Response(200, {"data": data})
