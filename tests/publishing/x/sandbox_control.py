"""Test-side handle on the sandbox's control endpoints (imported by conftest and tests)."""

from __future__ import annotations

from typing import Any

import requests

from publishing.sandbox import SandboxServer
from publishing.x import OAuth1Credentials, XClient


class SandboxControl:
    """The sandbox's control endpoints, as a test uses them."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.url = server.url
        self.http = requests.Session()

    def create_account(self, **fields: Any) -> dict[str, Any]:
        response = self.http.post(f"{self.url}/_sandbox/accounts", json=fields, timeout=5)
        response.raise_for_status()
        return response.json()

    def fault(self, user_id: str, kind: str, **fields: Any) -> None:
        response = self.http.post(f"{self.url}/_sandbox/faults", json={"user_id": user_id, "kind": kind, **fields},
                                  timeout=5)
        response.raise_for_status()

    def posts(self, user_id: str | None = None, include_deleted: bool = False) -> list[dict[str, Any]]:
        params = {"user_id": user_id or "", "include_deleted": "1" if include_deleted else "0"}
        return self.http.get(f"{self.url}/_sandbox/posts", params=params, timeout=5).json()["posts"]

    def configure(self, **values: Any) -> dict[str, Any]:
        response = self.http.post(f"{self.url}/_sandbox/config", json=values, timeout=5)
        response.raise_for_status()
        return response.json()

    def audience(self, **values: Any) -> dict[str, Any]:
        """How the pretend audience reacts (impressions_per_sec, like_rate, rules: [{text_contains, like_rate}])."""
        response = self.http.post(f"{self.url}/_sandbox/audience", json=values, timeout=5)
        response.raise_for_status()
        return response.json()

    def reset_audience(self) -> None:
        self.http.delete(f"{self.url}/_sandbox/audience", timeout=5).raise_for_status()

    def client(self, account: dict[str, Any], **kwargs: Any) -> XClient:
        kwargs.setdefault("timeout", 5.0)
        return XClient(oauth1=oauth1_of(account), api_base_url=self.url, upload_base_url=self.url, **kwargs)


def oauth1_of(account: dict[str, Any], **override: str) -> OAuth1Credentials:
    values = {k: account[k] for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")}
    values.update(override)
    return OAuth1Credentials(**values)
