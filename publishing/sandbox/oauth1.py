"""OAuth 1.0a (RFC 5849) HMAC-SHA1 signature verification, as X checks user-context requests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import sqlite3
import time
from urllib.parse import parse_qsl, quote, unquote

from publishing.sandbox.web import ApiError, Request

TIMESTAMP_WINDOW_SECS = 300


def pct(value: str) -> str:
    return quote(value, safe="~")


def parse_authorization(header: str) -> dict[str, str]:
    if not header.startswith("OAuth "):
        raise ApiError.unauthorized("Authorization header is not OAuth 1.0a.")
    params: dict[str, str] = {}
    for part in header[len("OAuth "):].split(","):
        part = part.strip()
        if not part or "=" not in part:
            continue
        key, _, value = part.partition("=")
        params[unquote(key.strip())] = unquote(value.strip().strip('"'))
    return params


def base_string_uri(request: Request) -> str:
    host = request.host.lower()
    scheme = request.scheme.lower()
    if (scheme, host.rpartition(":")[2]) in {("http", "80"), ("https", "443")}:
        host = host.rpartition(":")[0]
    return f"{scheme}://{host}{request.path}"


def signature_base_string(request: Request, oauth_params: dict[str, str]) -> str:
    params = list(parse_qsl(request.query_string, keep_blank_values=True))
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params += parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    params += [(k, v) for k, v in oauth_params.items() if k not in ("oauth_signature", "realm")]
    normalized = "&".join(f"{k}={v}" for k, v in sorted((pct(k), pct(v)) for k, v in params))
    return "&".join((request.method.upper(), pct(base_string_uri(request)), pct(normalized)))


def sign(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{pct(consumer_secret)}&{pct(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base_string.encode(), hashlib.sha1).digest()).decode()


def authenticate(db: sqlite3.Connection, request: Request) -> str:
    """Verify the request's OAuth 1.0a signature and return the user id, or raise a 401 problem."""
    params = parse_authorization(request.headers.get("authorization", ""))
    missing = [k for k in ("oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp",
                           "oauth_nonce", "oauth_signature") if not params.get(k)]
    if missing:
        raise ApiError.unauthorized(f"OAuth 1.0a parameters missing: {', '.join(missing)}.")
    if params["oauth_signature_method"] != "HMAC-SHA1":
        raise ApiError.unauthorized("Only HMAC-SHA1 OAuth 1.0a signatures are accepted.")
    if params.get("oauth_version", "1.0") != "1.0":
        raise ApiError.unauthorized("oauth_version must be 1.0.")
    try:
        timestamp = int(params["oauth_timestamp"])
    except ValueError as exc:
        raise ApiError.unauthorized("oauth_timestamp is not an integer.") from exc
    now = int(time.time())
    if abs(now - timestamp) > TIMESTAMP_WINDOW_SECS:
        raise ApiError.unauthorized("Timestamp out of bounds: check the clock of the calling machine.")

    row = db.execute(
        "SELECT a.user_id, a.access_token_secret, a.oauth1_revoked, p.consumer_secret FROM accounts a "
        "JOIN apps p ON p.consumer_key = a.consumer_key WHERE a.access_token = ? AND a.consumer_key = ?",
        (params["oauth_token"], params["oauth_consumer_key"]),
    ).fetchone()
    if row is None:
        raise ApiError.unauthorized("Invalid or expired token.")
    expected = sign(signature_base_string(request, params), row["consumer_secret"], row["access_token_secret"])
    if not hmac.compare_digest(expected, params["oauth_signature"]):
        raise ApiError.unauthorized("Could not authenticate you: the OAuth 1.0a signature does not match.")
    if row["oauth1_revoked"]:
        raise ApiError.unauthorized("Invalid or expired token.")

    # Nonces only need remembering for as long as their timestamp would be accepted.
    db.execute("DELETE FROM nonces WHERE timestamp < ?", (now - 2 * TIMESTAMP_WINDOW_SECS,))
    try:
        db.execute("INSERT INTO nonces (consumer_key, nonce, timestamp) VALUES (?, ?, ?)",
                   (params["oauth_consumer_key"], params["oauth_nonce"], timestamp))
    except sqlite3.IntegrityError as exc:
        raise ApiError.unauthorized("Nonce already used: OAuth 1.0a requests cannot be replayed.") from exc
    return row["user_id"]
