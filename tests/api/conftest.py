"""API tests share the workspace worlds of tests/conftest.py; `api_as` gives a DRF client with a role in `mine`."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def api_as(mine):
    def client_for(role: Role) -> APIClient:
        membership = MembershipFactory(workspace=mine.workspace, role=role, user=UserFactory())
        client = APIClient()
        client.force_authenticate(membership.user)
        return client

    return client_for
