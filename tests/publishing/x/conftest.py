"""A real X sandbox on 127.0.0.1 for the X client tests, fresh accounts, and tiny real MP4 files."""

from __future__ import annotations

from typing import Any

import pytest

from publishing.x import XClient
from tests.publishing.x.sandbox_control import SandboxControl


@pytest.fixture
def account(sandbox: SandboxControl) -> dict[str, Any]:
    return sandbox.create_account()


@pytest.fixture
def client(sandbox: SandboxControl, account: dict[str, Any]) -> XClient:
    return sandbox.client(account)


