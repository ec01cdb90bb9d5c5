"""The one error type of the X integration, and the mapping from tweepy/requests/oauthlib failures onto it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests
import tweepy
from oauthlib.oauth2 import OAuth2Error


class Reason:
    """Stable reason codes: the Django side branches on these, people read `XError.message`."""

    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "x_unavailable"
    TIMEOUT = "timeout"
    CONNECTION = "connection_error"
    TOKEN_INVALID = "token_revoked_or_expired"  # noqa: S105 (a reason code, not a secret)
    AUTHORIZATION_FAILED = "authorization_failed"
    MISSING_SCOPE = "missing_scope"
    DUPLICATE = "duplicate_content"
    INVALID_MEDIA = "invalid_media"
    VIDEO_TOO_LONG = "video_too_long"
    PROCESSING_FAILED = "media_processing_failed"
    PROCESSING_TIMEOUT = "media_processing_timeout"
    MEDIA_EXPIRED = "media_expired"
    MEDIA_NOT_READY = "media_not_ready"
    APP_ONLY_AUTH = "app_only_auth"
    TEXT_TOO_LONG = "text_too_long"
    PAYMENT_REQUIRED = "payment_required"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    BAD_REQUEST = "bad_request"


DUPLICATE_TEXT = ("X refuses the same text twice on one account, and this account already posted this caption: "
                  "change the caption, then retry.")


class XError(Exception):
    """A failed call to X. `permanent` says whether retrying the same call can ever succeed."""

    def __init__(self, message: str, *, permanent: bool, reason_code: str, retry_at: datetime | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.reason_code = reason_code
        self.retry_at = retry_at
        self.status = status

    @property
    def transient(self) -> bool:
        return not self.permanent

    def __repr__(self) -> str:
        return (f"XError({self.message!r}, permanent={self.permanent}, reason_code={self.reason_code!r}, "
                f"retry_at={self.retry_at!r}, status={self.status!r})")


def problem_details(response: requests.Response | None) -> str:
    """The most specific text X gave: errors[].detail/message first, then the top-level detail/title."""
    if response is None:
        return ""
    try:
        body: Any = response.json()
    except ValueError:
        return (response.text or "").strip()[:300]
    if not isinstance(body, dict):
        return ""
    parts = []
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            text = error.get("detail") or error.get("message")
            if text and text not in parts:
                parts.append(str(text))
    if not parts:
        for key in ("detail", "error_description", "title", "error"):
            if isinstance(body.get(key), str):
                parts.append(body[key])
                break
    # Messages land in a 300-character status field: keep X's part short.
    text = " ".join(parts)
    return text if len(text) <= 160 else text[:157] + "..."


def _retry_at(exc: tweepy.HTTPException) -> datetime | None:
    """When to retry: x-rate-limit-reset, or the 24-hour cap's reset when that cap is what ran out."""
    headers = getattr(exc.response, "headers", {}) or {}
    reset = getattr(exc, "reset_time", None) or headers.get("x-rate-limit-reset", "")
    resets = [int(reset)] if str(reset).isdigit() else []
    for scope in ("user", "app"):
        remaining = headers.get(f"x-{scope}-limit-24hour-remaining")
        reset = headers.get(f"x-{scope}-limit-24hour-reset", "")
        if remaining == "0" and reset.isdigit():
            resets.append(int(reset))
    return datetime.fromtimestamp(max(resets), UTC) if resets else None


def from_exception(exc: BaseException, *, timeout: float | None = None) -> XError:
    """Map a failure from tweepy, requests or oauthlib onto XError; unknown exceptions are re-raised."""
    if isinstance(exc, XError):
        return exc
    if isinstance(exc, requests.Timeout):
        within = f" within {timeout:g} s" if timeout else ""
        return XError(f"X did not answer{within}; the call will be retried. If it was a post, check the account "
                      "for it before retrying.", permanent=False, reason_code=Reason.TIMEOUT)
    if isinstance(exc, requests.ConnectionError):
        return XError("Could not connect to X (network or DNS failure); the call will be retried.",
                      permanent=False, reason_code=Reason.CONNECTION)
    if isinstance(exc, OAuth2Error):
        if (exc.status_code or 0) >= 500:
            return XError("X's token service is unavailable; the call will be retried.", permanent=False,
                          reason_code=Reason.UNAVAILABLE, status=exc.status_code)
        return XError(f"X refused the account's OAuth 2.0 authorization ({exc.error}): reconnect the X account.",
                      permanent=True, reason_code=Reason.AUTHORIZATION_FAILED, status=exc.status_code)
    if isinstance(exc, tweepy.HTTPException):
        return _from_http(exc)
    if isinstance(exc, requests.RequestException):
        # Broken chunked bodies, unreadable JSON from a proxy, too many redirects: network trouble, retry later.
        return XError(f"The answer from X was unusable ({type(exc).__name__}); the call will be retried.",
                      permanent=False, reason_code=Reason.CONNECTION)
    if isinstance(exc, tweepy.TweepyException):
        return XError(f"The X client failed: {exc}", permanent=True, reason_code=Reason.BAD_REQUEST)
    raise exc


def _from_http(exc: tweepy.HTTPException) -> XError:
    """By status code, so tweepy's subclasses (from Client.request) and a bare HTTPException (from the multipart
    upload step) map alike; tweepy.NotFound also stands for X's "200 with only errors"."""
    response = exc.response
    status = getattr(response, "status_code", None) or 0
    detail = problem_details(response)
    lowered = detail.lower()
    if status == 429:
        retry_at = _retry_at(exc)
        when = f"until {retry_at:%Y-%m-%d %H:%M:%S} UTC" if retry_at else "(X gave no reset time)"
        return XError(f"X rate limit reached for this account {when}; the post will be retried after that.",
                      permanent=False, reason_code=Reason.RATE_LIMITED, retry_at=retry_at, status=status)
    if status >= 500:
        return XError(f"X is unavailable (HTTP {status}); the call will be retried.", permanent=False,
                      reason_code=Reason.UNAVAILABLE, status=status)
    if status == 401:
        return XError("X rejected the account's credentials (token revoked or expired): reconnect the X account.",
                      permanent=True, reason_code=Reason.TOKEN_INVALID, status=status)
    if status == 403:
        if "duplicate content" in lowered:
            # Whether an earlier attempt of this very post landed is decided by its media (publishing.x.posting),
            # never by the text: another clip of the account may carry the same caption.
            return XError(DUPLICATE_TEXT, permanent=True, reason_code=Reason.DUPLICATE, status=status)
        if "unsupported authentication" in lowered or "application-only" in lowered:
            return XError("X does not accept an app-only token here: connect the account with OAuth 2.0 user "
                          "context or OAuth 1.0a user tokens.", permanent=True, reason_code=Reason.APP_ONLY_AUTH,
                          status=status)
        if "scope" in lowered:
            return XError(f"The account's X authorization lacks a permission ({detail}): reconnect the X account "
                          "and approve every requested permission.", permanent=True,
                          reason_code=Reason.MISSING_SCOPE, status=status)
        return XError(f"X refused the request: {detail or 'forbidden'}.", permanent=True,
                      reason_code=Reason.FORBIDDEN, status=status)
    if status == 404 or isinstance(exc, tweepy.NotFound):
        return XError(f"Not found on X: {detail or 'it may have been deleted'}.", permanent=True,
                      reason_code=Reason.NOT_FOUND, status=status)
    if status == 402:
        return XError("X requires credit on the developer account (HTTP 402 Payment Required): add credit or change "
                      "the API plan, then retry.", permanent=True, reason_code=Reason.PAYMENT_REQUIRED, status=status)
    if status == 400:
        return _from_bad_request(detail, status)
    if status in (408, 409):
        return XError(f"X could not complete the request (HTTP {status}); it will be retried.", permanent=False,
                      reason_code=Reason.UNAVAILABLE, status=status)
    return XError(f"X rejected the request (HTTP {status}): {detail or 'no details given'}.", permanent=True,
                  reason_code=Reason.BAD_REQUEST, status=status)


def _from_bad_request(detail: str, status: int | None) -> XError:
    lowered = detail.lower()
    if "media" in lowered and ("expired" in lowered or "ids are invalid" in lowered or "id is invalid" in lowered):
        # X says "Your media IDs are invalid." for expired uploads and for another account's media alike.
        return XError(f"X no longer accepts the uploaded video ({detail}): it will be uploaded again.",
                      permanent=False, reason_code=Reason.MEDIA_EXPIRED, status=status)
    if "media" in lowered and "not ready" in lowered:
        return XError(f"X has not finished processing the video ({detail}); posting will be retried.",
                      permanent=False, reason_code=Reason.MEDIA_NOT_READY, status=status)
    if "duration" in lowered:
        return XError(f"X rejected the video: {detail} Trim the clip to 0.5-140 s.", permanent=True,
                      reason_code=Reason.VIDEO_TOO_LONG, status=status)
    if "media" in lowered:
        return XError(f"X rejected the video: {detail} Re-render or re-encode it as H.264 MP4.", permanent=True,
                      reason_code=Reason.INVALID_MEDIA, status=status)
    if "weighted" in lowered or "too long" in lowered:
        return XError(f"X rejected the caption: {detail} Shorten it.", permanent=True,
                      reason_code=Reason.TEXT_TOO_LONG, status=status)
    return XError(f"X rejected the request: {detail or 'bad request'}.", permanent=True,
                  reason_code=Reason.BAD_REQUEST, status=status)


def processing_failed(media_id: str, error: dict[str, Any] | None) -> XError:
    """X finished processing the upload with state `failed`: permanent for this file."""
    error = error or {}
    name, message = str(error.get("name", "")), str(error.get("message", "no reason given"))[:160]
    if name == "InvalidDuration" or "duration" in message.lower():
        return XError(f"X could not use the video: {message} Trim the clip to 0.5-140 s.", permanent=True,
                      reason_code=Reason.VIDEO_TOO_LONG)
    if name in {"InvalidMedia", "UnsupportedMedia", "InvalidDimensions", "FileSizeExceeded"}:
        return XError(f"X could not use the video: {message} Re-encode it as H.264 MP4 (1280x720 or 720x1280).",
                      permanent=True, reason_code=Reason.INVALID_MEDIA)
    return XError(f"X failed to process the video (media {media_id}): {message}", permanent=True,
                  reason_code=Reason.PROCESSING_FAILED)
