"""XError mapping of X's answers that the sandbox does not produce (payment, app-only auth, HTML outages)."""

from __future__ import annotations

import json

import pytest
import requests
import tweepy

from publishing.x import Reason
from publishing.x.errors import from_exception, processing_failed


def response(status: int, body: object = None, headers: dict[str, str] | None = None) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer.reason = "reason"
    answer._content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    answer.headers.update(headers or {})
    return answer


def mapped(answer: requests.Response):
    # A bare HTTPException, as the multipart upload step raises: the mapping goes by status, not by tweepy's class.
    return from_exception(tweepy.HTTPException(answer))


def test_payment_required_is_permanent_and_says_what_to_do():
    error = mapped(response(402, {"title": "Payment Required", "detail": "CreditsDepleted"}))
    assert error.permanent and error.reason_code == Reason.PAYMENT_REQUIRED and "add credit" in error.message


def test_app_only_tokens_are_explained():
    error = mapped(response(403, {"title": "Unsupported Authentication", "detail": "Authenticating with OAuth 2.0 "
                                  "Application-Only is forbidden for this endpoint.", "status": 403}))
    assert error.permanent and error.reason_code == Reason.APP_ONLY_AUTH


def test_an_html_outage_page_is_transient():
    error = mapped(response(502, "<html>Bad Gateway</html>"))
    assert error.transient and error.reason_code == Reason.UNAVAILABLE and error.status == 502


def test_the_specific_detail_of_an_invalid_request_reaches_the_message():
    body = {"errors": [{"message": "Your media IDs are invalid.", "parameters": {}}], "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid."}
    error = mapped(response(400, body))
    assert error.reason_code == Reason.MEDIA_EXPIRED and "Your media IDs are invalid." in error.message


@pytest.mark.parametrize("status, reason", [(429, Reason.RATE_LIMITED), (401, Reason.TOKEN_INVALID),
                                            (404, Reason.NOT_FOUND), (503, Reason.UNAVAILABLE)])
def test_tweepys_own_classes_and_a_bare_http_exception_map_alike(status, reason):
    answer = response(status, {"title": "t", "detail": "d"}, {"x-rate-limit-reset": "2000000000"})
    own = {429: tweepy.TooManyRequests, 401: tweepy.Unauthorized, 404: tweepy.NotFound,
           503: tweepy.TwitterServerError}[status]
    kwargs = {"reset_time": 2000000000} if status == 429 else {}
    for error in (from_exception(own(answer, **kwargs)), mapped(answer)):
        assert (error.reason_code, error.status) == (reason, status)
    assert mapped(response(429, {}, {"x-rate-limit-reset": "2000000000"})).retry_at.timestamp() == 2000000000


def test_an_unusable_answer_is_transient():
    error = from_exception(requests.exceptions.ChunkedEncodingError("connection broken"))
    assert error.transient and error.reason_code == Reason.CONNECTION


def test_processing_errors_name_the_fix():
    assert processing_failed("1", {"name": "InvalidMedia", "message": "Unsupported"}).reason_code == \
        Reason.INVALID_MEDIA
    assert processing_failed("1", None).reason_code == Reason.PROCESSING_FAILED
