"""Control endpoints for tests and demos (/_sandbox/...) and the HTML page of posted clips."""

from __future__ import annotations

import html
import re
import sqlite3
import time
from fnmatch import fnmatchcase
from typing import Any

from publishing.sandbox.api_posts import iso
from publishing.sandbox.config import Audience, Config
from publishing.sandbox.store import Store, token
from publishing.sandbox.web import ApiError, Request, Response

FAULT_KINDS = {"rate_limit", "server_error", "delay", "processing_failure", "unauthorized", "stale_timeline"}
TOKEN_ACTIONS = {"expire_tokens", "revoke_tokens", "expire_media"}
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


def _bad(detail: str) -> ApiError:
    return ApiError.problem(400, "Invalid Request", detail)


def _upsert_app(db: sqlite3.Connection, body: dict[str, Any]) -> sqlite3.Row:
    key = body.get("consumer_key")
    if key:
        row = db.execute("SELECT * FROM apps WHERE consumer_key = ?", (key,)).fetchone()
        if row is not None:
            return row
    values = {
        "consumer_key": key or token(18), "consumer_secret": body.get("consumer_secret") or token(36),
        "client_id": body.get("client_id") or token(24), "client_secret": body.get("client_secret") or token(36),
        "redirect_uri": body.get("redirect_uri", ""), "scopes": body.get("scopes", ""),
    }
    if db.execute("SELECT 1 FROM apps WHERE client_id = ?", (values["client_id"],)).fetchone():
        raise _bad("client_id already belongs to another app.")
    db.execute("INSERT INTO apps (consumer_key, consumer_secret, client_id, client_secret, redirect_uri, scopes) "
               "VALUES (:consumer_key, :consumer_secret, :client_id, :client_secret, :redirect_uri, :scopes)", values)
    return db.execute("SELECT * FROM apps WHERE consumer_key = ?", (values["consumer_key"],)).fetchone()


def create_app(store: Store, request: Request) -> Response:
    with store.tx() as db:
        app = _upsert_app(db, request.json())
    return Response(201, dict(app))


def create_account(store: Store, request: Request, config: Config) -> Response:
    """POST /_sandbox/accounts: a user plus its OAuth 1.0a token; the app is reused when consumer_key names one.

    Idempotent per username within an app (200 with the existing credentials), so a demo seed can run repeatedly;
    access_token/access_token_secret may be given to make a seed deterministic.
    """
    body = request.json()
    with store.tx() as db:
        app = _upsert_app(db, body)
        existing = db.execute("SELECT * FROM accounts WHERE username = ?", (body.get("username") or "",)).fetchone()
        if existing is not None:
            if existing["consumer_key"] != app["consumer_key"]:
                raise _bad(f"username {existing['username']} is taken by another app's account.")
            account = dict(existing)
            account.pop("oauth1_revoked")
            account.update(consumer_secret=app["consumer_secret"], client_id=app["client_id"],
                           client_secret=app["client_secret"])
            return Response(200, account)
        user_id = Store.next_id(db, "user")
        username = body.get("username") or f"sandbox{user_id[-6:]}"
        if not USERNAME_RE.match(username):
            raise _bad("username must be 1-15 letters, digits or underscores.")
        # tweepy derives the user id from the access token's prefix, as X's tokens are built.
        access_token = body.get("access_token") or f"{user_id}-{token(24)}"
        if db.execute("SELECT 1 FROM accounts WHERE access_token = ?", (access_token,)).fetchone():
            raise _bad("access_token already belongs to another account.")
        account = {
            "user_id": user_id, "username": username, "name": body.get("name") or username,
            "consumer_key": app["consumer_key"], "access_token": access_token,
            "access_token_secret": body.get("access_token_secret") or token(33),
            "post_limit": int(body.get("post_limit", config.default_post_limit)),
            "post_window_secs": int(body.get("post_window_secs", config.default_post_window_secs)),
            "daily_post_limit": int(body.get("daily_post_limit", config.default_daily_post_limit)),
            "timeline_lag_secs": float(body.get("timeline_lag_secs", config.default_timeline_lag_secs)),
            "created_at": time.time(),
        }
        db.execute("INSERT INTO accounts (user_id, username, name, consumer_key, access_token, access_token_secret, "
                   "post_limit, post_window_secs, daily_post_limit, timeline_lag_secs, created_at) VALUES (:user_id, "
                   ":username, :name, :consumer_key, :access_token, :access_token_secret, :post_limit, "
                   ":post_window_secs, :daily_post_limit, :timeline_lag_secs, :created_at)", account)
    account.update(consumer_secret=app["consumer_secret"], client_id=app["client_id"],
                   client_secret=app["client_secret"])
    return Response(201, account)


def list_accounts(store: Store) -> Response:
    with store.tx() as db:
        rows = db.execute("SELECT user_id, username, name, post_limit, post_window_secs, daily_post_limit "
                          "FROM accounts ORDER BY created_at").fetchall()
    return Response(200, {"accounts": [dict(r) for r in rows]})


def set_fault(store: Store, request: Request) -> Response:
    """POST /_sandbox/faults {user_id, kind, count, path?, method?, status?, delay?, reset_header?, reset_in?,
    lands?}.

    `path` is a prefix, or a glob when it holds `*` (e.g. "/2/media/upload/*/append"); empty matches every call.
    `method` (e.g. "POST") limits the fault to that method. `lands: true` makes a delay or server_error act after
    the call took effect, as when X creates a post but its answer is late or lost (a timeout or 5xx on a create
    that happened). `stale_timeline`: the user's next `count` reads of GET /2/users/{id}/tweets miss the posts of
    the last `delay` seconds (default 60), as from a lagging replica.
    """
    body = request.json()
    kind, user_id = body.get("kind"), body.get("user_id")
    if kind not in FAULT_KINDS | TOKEN_ACTIONS:
        raise _bad(f"kind must be one of {sorted(FAULT_KINDS | TOKEN_ACTIONS)}.")
    with store.tx() as db:
        if db.execute("SELECT 1 FROM accounts WHERE user_id = ?", (user_id,)).fetchone() is None:
            raise _bad("user_id names no sandbox account.")
        if kind == "expire_tokens":
            db.execute("UPDATE oauth2_tokens SET expires_at = ? WHERE user_id = ? AND kind = 'access'",
                       (time.time() - 1, user_id))
            return Response(200, {"ok": True})
        if kind == "expire_media":
            db.execute("UPDATE media SET expires_at = ? WHERE user_id = ?", (time.time() - 1, user_id))
            return Response(200, {"ok": True})
        if kind == "revoke_tokens":
            db.execute("UPDATE oauth2_tokens SET revoked = 1 WHERE user_id = ?", (user_id,))
            db.execute("UPDATE accounts SET oauth1_revoked = 1 WHERE user_id = ?", (user_id,))
            return Response(200, {"ok": True})
        count = int(body.get("count", 1))
        method = str(body.get("method", "")).upper()
        if method not in ("", "GET", "POST", "DELETE", "PUT"):
            raise _bad("method must be GET, POST, DELETE or PUT (or absent for any).")
        lands = bool(body.get("lands", False))
        if lands and kind not in ("delay", "server_error"):
            raise _bad("lands applies to delay and server_error faults only.")
        db.execute(
            "INSERT INTO faults (user_id, kind, remaining, path_prefix, status, delay, reset_header, reset_in, method, "
            "lands) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (user_id, kind, count, body.get("path", body.get("path_prefix", "")), int(body.get("status", 503)),
             float(body.get("delay", 60 if kind == "stale_timeline" else 0)),
             int(bool(body.get("reset_header", True))), int(body.get("reset_in", 60)),
             method, int(lands)),
        )
    return Response(201, {"ok": True})


def clear_faults(store: Store, request: Request) -> Response:
    user_id = request.query.get("user_id")
    with store.tx() as db:
        if user_id:
            db.execute("DELETE FROM faults WHERE user_id = ?", (user_id,))
        else:
            db.execute("DELETE FROM faults")
    return Response(200, {"ok": True})


def take_faults(store: Store, user_id: str, path: str, kinds: set[str], method: str = "") -> list[sqlite3.Row]:
    """Consume one use of each pending fault of these kinds that matches the path and method (oldest first)."""
    taken = []
    with store.tx() as db:
        for row in db.execute("SELECT * FROM faults WHERE user_id = ? AND remaining > 0 ORDER BY id",
                              (user_id,)).fetchall():
            pattern = row["path_prefix"]
            matches = fnmatchcase(path, pattern) if "*" in pattern else path.startswith(pattern)
            matches = matches and row["method"] in ("", method)
            if row["kind"] in kinds and matches and row["kind"] not in {t["kind"] for t in taken}:
                taken.append(row)
                db.execute("UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (row["id"],))
        db.execute("DELETE FROM faults WHERE remaining <= 0")
    return taken


def list_posts(store: Store, request: Request) -> Response:
    query = request.query
    clauses, args = [], []
    if query.get("user_id"):
        clauses.append("p.user_id = ?")
        args.append(query["user_id"])
    if query.get("include_deleted") not in ("1", "true"):
        clauses.append("p.deleted_at IS NULL")
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    with store.tx() as db:
        rows = db.execute(f"SELECT p.*, a.username FROM posts p JOIN accounts a ON a.user_id = p.user_id {where} "  # noqa: S608
                          "ORDER BY CAST(p.id AS INTEGER)", args).fetchall()
    posts = [{"id": r["id"], "user_id": r["user_id"], "username": r["username"], "text": r["text"],
              "media_id": r["media_id"], "made_with_ai": bool(r["made_with_ai"]), "created_at": iso(r["created_at"]),
              "deleted": r["deleted_at"] is not None} for r in rows]
    return Response(200, {"count": len(posts), "posts": posts})


def update_config(request: Request, config: Config) -> Response:
    if request.method == "POST":
        try:
            config.update(request.json())
        except ValueError as exc:
            raise _bad(str(exc)) from exc
    return Response(200, config.as_dict())


def update_audience(request: Request, audience: Audience) -> Response:
    """GET reads, POST changes (only the fields given), DELETE restores the defaults."""
    if request.method == "DELETE":
        fresh = Audience()
        audience.impressions_per_sec, audience.like_rate, audience.rules = (
            fresh.impressions_per_sec, fresh.like_rate, fresh.rules)
    elif request.method == "POST":
        body = request.json()
        if not isinstance(body, dict):
            raise _bad("The body must be a JSON object.")
        try:
            audience.update(body)
        except ValueError as exc:
            raise _bad(str(exc)) from exc
    return Response(200, audience.as_dict())


def media_bytes(store: Store, request: Request, media_id: str) -> Response:
    with store.tx() as db:
        row = db.execute("SELECT b.data, m.media_type FROM media m JOIN blobs b ON b.sha256 = m.sha256 "
                         "WHERE m.id = ?", (media_id,)).fetchone()
    if row is None:
        raise ApiError.not_found(f"No media {media_id}.", "media", media_id)
    data: bytes = row["data"]
    match = re.match(r"bytes=(\d*)-(\d*)$", request.headers.get("range", ""))
    headers = {"Accept-Ranges": "bytes"}
    if match and (match.group(1) or match.group(2)):
        start = int(match.group(1)) if match.group(1) else max(0, len(data) - int(match.group(2)))
        end = int(match.group(2)) if match.group(1) and match.group(2) else len(data) - 1
        end = min(end, len(data) - 1)
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return Response(206, data[start:end + 1], headers, row["media_type"])
    return Response(200, data, headers, row["media_type"])


def _page(title: str, body: str) -> Response:
    page = ("<!doctype html><html lang=en><meta charset=utf-8><title>X sandbox</title>"
            "<style>body{font:15px system-ui;max-width:46rem;margin:2rem auto}article{border-bottom:1px solid #ddd;"
            "padding:.5rem 0}.ai{background:#eef;padding:0 .3rem;border-radius:.3rem}</style>"
            f"<h1>{title}</h1>{body}</html>")
    return Response(200, page, {}, "text/html; charset=utf-8")


def _article(r) -> str:
    video = (f'<video controls preload="metadata" width="360" src="/_sandbox/media/{r["media_id"]}"></video>'
             if r["media_id"] else "")
    ai = ' <span class="ai">made with AI</span>' if r["made_with_ai"] else ""
    link = f'/{html.escape(r["username"])}/status/{r["id"]}'
    return (f'<article id="post-{r["id"]}"><p><b>@{html.escape(r["username"])}</b> · {iso(r["created_at"])} · '
            f'<a href="{link}"><code>{r["id"]}</code></a>{ai}</p><p>{html.escape(r["text"])}</p>{video}</article>')


def index_page(store: Store) -> Response:
    with store.tx() as db:
        rows = db.execute("SELECT p.*, a.username FROM posts p JOIN accounts a ON a.user_id = p.user_id "
                          "WHERE p.deleted_at IS NULL ORDER BY CAST(p.id AS INTEGER) DESC LIMIT 200").fetchall()
        (total,) = db.execute("SELECT COUNT(*) FROM posts WHERE deleted_at IS NULL").fetchone()
    body = "".join(_article(r) for r in rows) or "<p>No posts yet.</p>"
    return _page("X sandbox", f"<p>{total} post(s); newest 200 shown.</p>{body}")


def post_page(store: Store, username: str, post_id: str) -> Response:
    """A post's permalink, shaped like x.com/{username}/status/{id}, so Clipcast's post links work here too."""
    with store.tx() as db:
        row = db.execute("SELECT p.*, a.username FROM posts p JOIN accounts a ON a.user_id = p.user_id "
                         "WHERE p.id = ? AND a.username = ? AND p.deleted_at IS NULL", (post_id, username)).fetchone()
    if row is None:
        raise ApiError.problem(404, "Not Found Error", f"No post {post_id} by @{username}.")
    return _page(f"Post by @{html.escape(username)}", _article(row) + '<p><a href="/">All posts</a></p>')
