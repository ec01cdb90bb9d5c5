"""OAuth 2.0 Authorization Code with PKCE, refresh tokens and bearer-token checks, as X implements them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import sqlite3
import time
from urllib.parse import urlencode

from publishing.sandbox.store import Store, token
from publishing.sandbox.web import ApiError, Request, Response

CODE_TTL_SECS = 600
KNOWN_SCOPES = frozenset({
    "tweet.read", "tweet.write", "tweet.moderate.write", "users.read", "follows.read", "follows.write",
    "offline.access", "space.read", "mute.read", "mute.write", "like.read", "like.write", "list.read",
    "list.write", "block.read", "block.write", "bookmark.read", "bookmark.write", "media.write",
})


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def authorize(store: Store, request: Request) -> Response:
    """GET /i/oauth2/authorize: auto-approve and redirect with a code (or show a page to pick the account)."""
    q = request.query
    for name in ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge"):
        if not q.get(name):
            raise ApiError.problem(400, "Invalid Request", f"Missing required parameter {name}.")
    if q["response_type"] != "code":
        raise ApiError.problem(400, "Invalid Request", "response_type must be 'code'.")
    method = q.get("code_challenge_method", "plain")
    if method not in ("S256", "plain"):
        raise ApiError.problem(400, "Invalid Request", "code_challenge_method must be S256 or plain.")
    scopes = q["scope"].split()
    unknown = sorted(set(scopes) - KNOWN_SCOPES)
    if unknown:
        raise ApiError.problem(400, "Invalid Request", f"Unknown scopes: {', '.join(unknown)}.")
    with store.tx() as db:
        app = db.execute("SELECT * FROM apps WHERE client_id = ?", (q["client_id"],)).fetchone()
        if app is None:
            raise ApiError.problem(400, "Invalid Request", "Unknown client_id.")
        if app["redirect_uri"] and app["redirect_uri"] != q["redirect_uri"]:
            raise ApiError.problem(400, "Invalid Request", "redirect_uri does not match the app's callback URL.")
        accounts = db.execute("SELECT user_id, username FROM accounts WHERE consumer_key = ? ORDER BY created_at",
                              (app["consumer_key"],)).fetchall()
        chosen = q.get("sandbox_user_id")
        if chosen is None and len(accounts) == 1:
            chosen = accounts[0]["user_id"]
        if chosen is None:
            return _account_picker(request, [(a["user_id"], a["username"]) for a in accounts])
        if chosen not in {a["user_id"] for a in accounts}:
            raise ApiError.problem(400, "Invalid Request", "sandbox_user_id is not an account of this app.")
        if app["scopes"]:
            # Like an X app without write or media permission: the user can only grant what the app may have.
            allowed = set(app["scopes"].split())
            scopes = [s for s in scopes if s in allowed]
        code = token()
        db.execute(
            "INSERT INTO oauth2_codes (code, client_id, user_id, redirect_uri, scope, code_challenge, "
            "code_challenge_method, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (code, q["client_id"], chosen, q["redirect_uri"], " ".join(scopes), q["code_challenge"], method,
             time.time() + CODE_TTL_SECS),
        )
    sep = "&" if "?" in q["redirect_uri"] else "?"
    location = q["redirect_uri"] + sep + urlencode({"state": q["state"], "code": code})
    return Response(302, b"", {"Location": location}, "text/plain")


def _account_picker(request: Request, accounts: list[tuple[str, str]]) -> Response:
    base = f"{request.path}?{request.query_string}"
    items = "".join(
        f'<li><a href="{html.escape(base)}&amp;sandbox_user_id={uid}">Authorize as @{html.escape(name)}</a></li>'
        for uid, name in accounts
    ) or "<li>No account belongs to this app yet: create one with POST /_sandbox/accounts.</li>"
    page = f"<!doctype html><title>X sandbox: authorize</title><h1>Authorize app</h1><ul>{items}</ul>"
    return Response(200, page, {}, "text/html; charset=utf-8")


def _client(db: sqlite3.Connection, request: Request, form: dict[str, str]) -> str:
    """Identify the client: HTTP Basic for confidential clients, client_id in the body for public ones."""
    header = request.headers.get("authorization", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError as exc:
            raise ApiError.oauth("invalid_client", "Malformed Basic authorization.", 401) from exc
        app = db.execute("SELECT client_secret FROM apps WHERE client_id = ?", (client_id,)).fetchone()
        if app is None or not hmac.compare_digest(app["client_secret"], secret):
            raise ApiError.oauth("invalid_client", "Client authentication failed.", 401)
        return client_id
    client_id = form.get("client_id", "")
    if not client_id or db.execute("SELECT 1 FROM apps WHERE client_id = ?", (client_id,)).fetchone() is None:
        raise ApiError.oauth("invalid_client", "Missing or unknown client_id.", 401)
    return client_id


def token_endpoint(store: Store, request: Request, access_ttl: int) -> Response:
    """POST /2/oauth2/token: authorization_code (with PKCE) and refresh_token grants."""
    form = request.form()
    grant = form.get("grant_type")
    with store.tx() as db:
        client_id = _client(db, request, form)
        if grant == "authorization_code":
            user_id, scope = _redeem_code(db, client_id, form)
        elif grant == "refresh_token":
            user_id, scope = _redeem_refresh(db, client_id, form)
        else:
            raise ApiError.oauth("unsupported_grant_type", "grant_type must be authorization_code or refresh_token.")
        access = token(32)
        db.execute("INSERT INTO oauth2_tokens (token, kind, client_id, user_id, scope, expires_at) "
                   "VALUES (?, 'access', ?, ?, ?, ?)", (access, client_id, user_id, scope, time.time() + access_ttl))
        body = {"token_type": "bearer", "expires_in": access_ttl, "access_token": access, "scope": scope}
        if "offline.access" in scope.split():
            refresh = token(32)
            db.execute("INSERT INTO oauth2_tokens (token, kind, client_id, user_id, scope, expires_at) "
                       "VALUES (?, 'refresh', ?, ?, ?, NULL)", (refresh, client_id, user_id, scope))
            body["refresh_token"] = refresh
    return Response(200, body, {"Cache-Control": "no-store"})


def _redeem_code(db: sqlite3.Connection, client_id: str, form: dict[str, str]) -> tuple[str, str]:
    row = db.execute("SELECT * FROM oauth2_codes WHERE code = ?", (form.get("code", ""),)).fetchone()
    if row is None or row["used"] or row["expires_at"] < time.time() or row["client_id"] != client_id:
        raise ApiError.oauth("invalid_request", "Value passed for the authorization code was invalid.")
    if row["redirect_uri"] != form.get("redirect_uri"):
        raise ApiError.oauth("invalid_request", "redirect_uri does not match the one used to authorize.")
    verifier = form.get("code_verifier", "")
    if not 43 <= len(verifier) <= 128:
        raise ApiError.oauth("invalid_request", "code_verifier must be 43 to 128 characters.")
    expected = s256(verifier) if row["code_challenge_method"] == "S256" else verifier
    # Burn the code even when the verifier is wrong: a code is single-use whatever happens.
    db.execute("UPDATE oauth2_codes SET used = 1 WHERE code = ?", (row["code"],))
    if not hmac.compare_digest(expected, row["code_challenge"]):
        raise ApiError.oauth("invalid_grant", "PKCE verification failed: code_verifier does not match.")
    return row["user_id"], row["scope"]


def _redeem_refresh(db: sqlite3.Connection, client_id: str, form: dict[str, str]) -> tuple[str, str]:
    row = db.execute("SELECT * FROM oauth2_tokens WHERE token = ? AND kind = 'refresh'",
                     (form.get("refresh_token", ""),)).fetchone()
    if row is None or row["revoked"] or row["client_id"] != client_id:
        raise ApiError.oauth("invalid_request", "Value passed for the token was invalid.")
    # X rotates refresh tokens: the old one stops working once used.
    db.execute("UPDATE oauth2_tokens SET revoked = 1 WHERE token = ?", (row["token"],))
    return row["user_id"], row["scope"]


def authenticate(db: sqlite3.Connection, bearer: str) -> tuple[str, frozenset[str]]:
    row = db.execute("SELECT * FROM oauth2_tokens WHERE token = ? AND kind = 'access'", (bearer,)).fetchone()
    if row is None or row["revoked"]:
        raise ApiError.unauthorized("Invalid or revoked access token.")
    if row["expires_at"] is not None and row["expires_at"] < time.time():
        raise ApiError.unauthorized("Access token expired.")
    return row["user_id"], frozenset(row["scope"].split())
