"""Credentials for X: OAuth 1.0a user context, and OAuth 2.0 Authorization Code with PKCE plus refresh."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import tweepy
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from publishing.x.errors import Reason, XError, from_exception
from publishing.x.transport import X_AUTHORIZE_URL, Endpoints, Timeouts, install_log_redaction, mount

SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")


@dataclass(frozen=True)
class OAuth1Credentials:
    consumer_key: str
    consumer_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)


@dataclass(frozen=True)
class OAuth2App:
    """The X app's OAuth 2.0 client; `client_secret` is empty for a public (PKCE-only) client."""

    client_id: str
    redirect_uri: str
    client_secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class OAuth2Token:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    scope: tuple[str, ...] = ()

    def expires_within(self, seconds: float, now: datetime | None = None) -> bool:
        if self.expires_at is None:
            return False
        return self.expires_at - (now or datetime.now(UTC)) <= timedelta(seconds=seconds)

    @classmethod
    def from_response(cls, token: dict[str, Any], now: datetime | None = None) -> OAuth2Token:
        now = now or datetime.now(UTC)
        expires_at = None
        if token.get("expires_at"):
            expires_at = datetime.fromtimestamp(float(token["expires_at"]), UTC)
        elif token.get("expires_in"):
            expires_at = now + timedelta(seconds=float(token["expires_in"]))
        scope = token.get("scope") or ()
        if isinstance(scope, str):
            scope = scope.split()
        return cls(token["access_token"], token.get("refresh_token"), expires_at, tuple(scope))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form for storage (encrypt it at rest)."""
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "expires_at": self.expires_at.timestamp() if self.expires_at else None, "scope": " ".join(self.scope)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OAuth2Token:
        return cls.from_response(data)


@dataclass(frozen=True)
class AuthorizationRequest:
    """Send the user to `url`; keep `state` and `code_verifier` (server side) until the callback."""

    url: str
    state: str
    code_verifier: str = field(repr=False)


def _code_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


class OAuth2Flow:
    """Authorization Code with PKCE and refresh, on tweepy's OAuth2UserHandler (a requests-oauthlib session)."""

    def __init__(self, app: OAuth2App, *, api_base_url: str = Endpoints.api_base_url,
                 timeout: float = 30.0, connect_timeout: float = 10.0, scopes: tuple[str, ...] = SCOPES) -> None:
        install_log_redaction()
        self.app = app
        self.scopes = scopes
        self.endpoints = Endpoints(api_base_url)
        self.timeouts = Timeouts(connect_timeout, timeout)

    def _handler(self) -> tweepy.OAuth2UserHandler:
        handler = tweepy.OAuth2UserHandler(client_id=self.app.client_id, redirect_uri=self.app.redirect_uri,
                                           scope=list(self.scopes), client_secret=self.app.client_secret or None)
        mount(handler, self.endpoints, self.timeouts)
        return handler

    def authorization_request(self) -> AuthorizationRequest:
        verifier = secrets.token_urlsafe(96)[:128]  # RFC 7636: 43-128 characters
        state = secrets.token_urlsafe(24)
        # Built for X's own https URL (oauthlib refuses http), then pointed at the configured server.
        url, _ = self._handler().authorization_url(
            X_AUTHORIZE_URL, state=state, code_challenge=_code_challenge(verifier), code_challenge_method="S256")
        url = self.endpoints.authorize_url + url[len(X_AUTHORIZE_URL):]
        return AuthorizationRequest(url=url, state=state, code_verifier=verifier)

    @staticmethod
    def code_from_callback(callback_url: str, expected_state: str) -> str:
        """The `code` of X's redirect back to us, after checking `state`; XError if the user declined."""
        query = {k: v[-1] for k, v in parse_qs(urlsplit(callback_url).query).items()}
        if not hmac.compare_digest(query.get("state", ""), expected_state):
            raise XError("The X authorization answer does not match this session (state mismatch): start connecting "
                         "the account again.", permanent=True, reason_code=Reason.AUTHORIZATION_FAILED)
        if "error" in query or not query.get("code"):
            raise XError(f"X authorization was not granted ({query.get('error', 'no code')}): connect the account "
                         "again and approve the app.", permanent=True, reason_code=Reason.AUTHORIZATION_FAILED)
        return query["code"]

    def exchange_code(self, code: str, code_verifier: str) -> OAuth2Token:
        handler = self._handler()
        try:
            # OAuth2Session.fetch_token, not tweepy's override: that one needs the verifier of the same object.
            token = OAuth2Session.fetch_token(
                handler, self.endpoints.token_url, code=code, auth=handler.auth, include_client_id=True,
                code_verifier=code_verifier)
        except (OAuth2Error, requests.RequestException) as exc:
            raise from_exception(exc, timeout=self.timeouts.read) from exc
        except Warning as warning:  # oauthlib's "Scope has changed", raised with the token attached
            token = self._narrowed(warning)
        return OAuth2Token.from_response(token)

    def _narrowed(self, warning: Warning) -> dict[str, Any]:
        token = getattr(warning, "token", None)
        if token is None:
            raise warning
        granted = set(OAuth2Token.from_response(token).scope)
        missing = sorted(set(self.scopes) - granted)
        if missing:
            raise XError(f"X granted the app only {', '.join(sorted(granted)) or 'no permissions'}; Clipcast also "
                         f"needs {', '.join(missing)}. Enable read and write access (and media upload) for the app in "
                         "the X developer portal, then connect the account again.", permanent=True,
                         reason_code=Reason.MISSING_SCOPE)
        return token

    def refresh(self, token: OAuth2Token) -> OAuth2Token:
        if not token.refresh_token:
            raise XError("The X token cannot be refreshed (no refresh token; offline.access was not granted): "
                         "reconnect the X account.", permanent=True, reason_code=Reason.TOKEN_INVALID)
        handler = self._handler()
        extra = {} if self.app.client_secret else {"client_id": self.app.client_id}
        try:
            fresh = handler.refresh_token(self.endpoints.token_url, refresh_token=token.refresh_token,
                                          auth=handler.auth, **extra)
        except (OAuth2Error, requests.RequestException) as exc:
            raise from_exception(exc, timeout=self.timeouts.read) from exc
        except Warning as warning:
            fresh = self._narrowed(warning)
        if not fresh.get("refresh_token"):
            fresh["refresh_token"] = token.refresh_token
        return OAuth2Token.from_response(fresh)
