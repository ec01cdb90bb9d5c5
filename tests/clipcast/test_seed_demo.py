"""The demo seed and the first page a visitor sees."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_seed_demo_is_idempotent_and_its_login_reaches_the_dashboard(client):
    call_command("seed_demo", password="demo-pass-123")
    call_command("seed_demo", password="another-pass")
    from accounts.models import Workspace
    from campaigns.models import Campaign, PromptTemplate

    assert Workspace.objects.filter(slug="demo").count() == 1
    assert Campaign.objects.count() == 1
    assert PromptTemplate.objects.count() == 1
    assert client.login(username="marketer", password="demo-pass-123")
    page = client.get("/")
    assert page.status_code == 200
    assert b"Shapes launch" in page.content
