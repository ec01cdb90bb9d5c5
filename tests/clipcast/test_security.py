from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_pages_carry_csp_and_frame_deny(client):
    response = client.get("/login/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_login_brute_force_is_throttled(client, settings):
    cache.clear()
    settings.LOGIN_MAX_FAILURES = 3
    user = UserFactory(username="target")
    for _ in range(3):
        assert client.post("/login/", {"username": "target", "password": "wrong"}).status_code == 200
    blocked = client.post("/login/", {"username": "target", "password": "pw-correct-horse-42"})
    assert blocked.status_code == 429
    assert b"Too many failed logins" in blocked.content
    assert "_auth_user_id" not in client.session
    cache.clear()
    assert client.post("/login/", {"username": user.username, "password": "pw-correct-horse-42"}).status_code == 302
