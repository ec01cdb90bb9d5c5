"""Request/response values and X's error shapes (the spec's Problem format and OAuth 2.0 errors)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

PROBLEM_BASE = "https://api.x.com/2/problems/"


@dataclass
class Request:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    scheme: str = "http"
    user_id: str | None = None  # set once authenticated
    scopes: frozenset[str] | None = None  # None for OAuth 1.0a (user context grants every scope)

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.query_string, keep_blank_values=True).items()}

    @property
    def host(self) -> str:
        return self.headers.get("host", "127.0.0.1")

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            value = json.loads(self.body)
        except ValueError as exc:
            raise ApiError.invalid_request(f"Request body is not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise ApiError.invalid_request("Request body must be a JSON object.")
        return value

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True).items()}


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict -> JSON, bytes/str -> as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode()


class ApiError(Exception):
    """An error answered in X's Problem format (application/problem+json)."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None,
                 content_type: str = "application/problem+json") -> None:
        super().__init__(body.get("detail") or body.get("error_description") or str(status))
        self.response = Response(status, body, headers or {}, content_type)

    @classmethod
    def problem(cls, status: int, title: str, detail: str, type_: str = "about:blank",
                headers: dict[str, str] | None = None, **extra: Any) -> ApiError:
        body = {"title": title, "detail": detail, "type": type_, "status": status, **extra}
        return cls(status, body, headers)

    @classmethod
    def invalid_request(cls, detail: str, parameter: str | None = None) -> ApiError:
        # X answers validation failures with 400 and an `errors` array of invalid-request problems.
        problem: dict[str, Any] = {"type": PROBLEM_BASE + "invalid-request", "title": "Invalid Request",
                                   "detail": detail}
        if parameter:
            problem["parameter"] = parameter
        body = {"errors": [problem], "title": "Invalid Request", "detail": "One or more parameters to your request "
                "was invalid.", "type": PROBLEM_BASE + "invalid-request"}
        return cls(400, body)

    @classmethod
    def unauthorized(cls, detail: str = "Unauthorized") -> ApiError:
        return cls.problem(401, "Unauthorized", detail)

    @classmethod
    def forbidden(cls, detail: str) -> ApiError:
        return cls.problem(403, "Forbidden", detail)

    @classmethod
    def not_found(cls, detail: str, resource_type: str, resource_id: str = "") -> ApiError:
        return cls.problem(404, "Not Found Error", detail, PROBLEM_BASE + "resource-not-found",
                           resource_type=resource_type, resource_id=resource_id)

    @classmethod
    def oauth(cls, error: str, description: str, status: int = 400) -> ApiError:
        # RFC 6749 section 5.2 shape, which requests-oauthlib turns into typed errors.
        return cls(status, {"error": error, "error_description": description}, content_type="application/json")


def not_found_error(resource_type: str, resource_id: str, parameter: str = "id") -> dict[str, Any]:
    """The partial error X returns with HTTP 200 when a looked-up resource is missing."""
    return {
        "value": resource_id,
        "detail": f"Could not find {resource_type} with {parameter}: [{resource_id}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": resource_id,
        "type": PROBLEM_BASE + "resource-not-found",
    }
