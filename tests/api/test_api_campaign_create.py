"""A created campaign answers with every field the schema requires (schemathesis found clip_count missing)."""

from __future__ import annotations

import pytest

from accounts.models import Role

pytestmark = pytest.mark.django_db


def test_a_new_campaign_answers_with_its_clip_count(api_as, mine):
    response = api_as(Role.EDITOR).post("/api/campaigns/", {"workspace": mine.workspace.pk, "name": "New"},
                                        format="json")

    assert response.status_code == 201
    assert response.json()["clip_count"] == 0
