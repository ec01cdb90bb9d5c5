"""XError mapping of X's answers that the sandbox does not produce (payment, app-only auth, HTML outages)."""

from __future__ import annotations

import json

import pytest
import requests
import tweepy

from publishing.x import Reason
from publishing.x.errors import from_exception, processing_failed
from publishing.x.upload import raise_for_status


def response(status: int, body: object = None, headers: dict[str, str] | None = None) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer.reason = "reason"
    answer._content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    answer.headers.update(headers or {})
    return answer


def mapped(answer: requests.Response):
    with pytest.raises(tweepy.TweepyException) as caught:
        raise_for_status(answer)
    return from_exception(caught.value)


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


def test_an_unusable_answer_is_transient():
    error = from_exception(requests.exceptions.ChunkedEncodingError("connection broken"))
    assert error.transient and error.reason_code == Reason.CONNECTION


def test_processing_errors_name_the_fix():
    assert processing_failed("1", {"name": "InvalidMedia", "message": "Unsupported"}).reason_code == \
        Reason.INVALID_MEDIA
    assert processing_failed("1", None).reason_code == Reason.PROCESSING_FAILED
