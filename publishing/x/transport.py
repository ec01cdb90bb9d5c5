"""The one HTTP choke point to X: base-URL rewriting, mandatory timeouts, and token-free logging.

tweepy hard-codes https://api.twitter.com and passes no timeout; requests-oauthlib (inside tweepy's OAuth 2.0
handler) hard-codes nothing useful either. Every session they use gets `XTransportAdapter` mounted, so all of
their requests, whatever URL they were built with, go to the configured base URLs with our timeouts.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.x.com"
X_AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
CANONICAL_API = "https://api.x.com"  # what our own code builds URLs with; rewritten like tweepy's
X_API_HOSTS = frozenset({"api.twitter.com", "api.x.com", "upload.twitter.com", "upload.x.com"})
UPLOAD_PATH_PREFIXES = ("/2/media/upload", "/1.1/media/upload")


@dataclass(frozen=True)
class Endpoints:
    """Where X lives: the real API by default, or an X-compatible server such as the sandbox."""

    api_base_url: str = DEFAULT_API_BASE_URL
    upload_base_url: str = ""  # empty: same as api_base_url (X serves v2 uploads on api.x.com)

    @property
    def upload(self) -> str:
        return (self.upload_base_url or self.api_base_url).rstrip("/")

    @property
    def api(self) -> str:
        return self.api_base_url.rstrip("/")

    @property
    def is_real_x(self) -> bool:
        return urlsplit(self.api).hostname in X_API_HOSTS

    @property
    def authorize_url(self) -> str:
        # A browser URL, so no adapter can rewrite it: build it here.
        return X_AUTHORIZE_URL if self.is_real_x else f"{self.api}/i/oauth2/authorize"

    @property
    def token_url(self) -> str:
        # Always the canonical https URL: oauthlib refuses http token URLs; the adapter then rewrites it.
        return f"{CANONICAL_API}/2/oauth2/token"

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.hostname not in X_API_HOSTS:
            return url
        base = self.upload if parts.path.startswith(UPLOAD_PATH_PREFIXES) else self.api
        return base + parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    read: float = 30.0

    def as_requests(self) -> tuple[float, float]:
        return (self.connect, self.read)


class XTransportAdapter(HTTPAdapter):
    """Rewrites X URLs to the configured base URLs and puts a timeout on every request."""

    def __init__(self, endpoints: Endpoints, timeouts: Timeouts) -> None:
        super().__init__(max_retries=0)  # retries are the caller's decision (X has no idempotency keys)
        self.endpoints = endpoints
        self.timeouts = timeouts

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout=None, verify=True, cert=None,
             proxies=None) -> requests.Response:
        request.url = self.endpoints.rewrite(request.url or "")
        if timeout is None or timeout == (None, None):
            timeout = self.timeouts.as_requests()
        started = time.monotonic()
        path = urlsplit(request.url).path
        try:
            response = super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert,
                                    proxies=proxies)
        except requests.RequestException as exc:
            log.info("x.http.error method=%s path=%s error=%s", request.method, path, type(exc).__name__)
            raise
        log.debug("x.http method=%s path=%s status=%s ms=%d", request.method, path, response.status_code,
                  (time.monotonic() - started) * 1000)
        return response


class XSession(requests.Session):
    """A session whose URLs are rewritten before auth runs, so OAuth 1.0a signs the URL actually requested."""

    def __init__(self, endpoints: Endpoints, timeouts: Timeouts) -> None:
        super().__init__()
        self.endpoints = endpoints
        mount(self, endpoints, timeouts)

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        request.url = self.endpoints.rewrite(request.url)
        return super().prepare_request(request)


def mount(session: requests.Session, endpoints: Endpoints, timeouts: Timeouts) -> None:
    adapter = XTransportAdapter(endpoints, timeouts)
    session.mount("https://", adapter)
    session.mount("http://", adapter)


class RedactSecrets(logging.Filter):
    """tweepy and requests-oauthlib log headers and token bodies at DEBUG: strip the secrets out."""

    PATTERNS = (
        re.compile(r"((?:Bearer|Basic)\s+)[^\s'\",}]+", re.IGNORECASE),
        re.compile(r"((?:access_token|refresh_token|code_verifier|client_secret|oauth_signature|oauth_token|code)"
                   r"['\"]?\s*(?::|=|%3D|%253D)\s*['\"]?)[^\s'\",&%}]+"),
    )

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for pattern in self.PATTERNS:
            redacted = pattern.sub(r"\1[redacted]", redacted)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_log_redaction() -> None:
    # Filters do not apply to records propagated from child loggers, so name each logger that logs secrets.
    for name in ("tweepy.client", "requests_oauthlib.oauth2_session", "requests_oauthlib.oauth1_auth",
                 "oauthlib.oauth1.rfc5849", "oauthlib.oauth2.rfc6749.parameters"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
