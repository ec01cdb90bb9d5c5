"""Answers schemathesis found incomplete: a created campaign without clip_count, an invitation without a role (500)."""

from __future__ import annotations

import pytest

from accounts.models import Role

pytestmark = pytest.mark.django_db


def test_a_new_campaign_answers_with_its_clip_count(api_as, mine):
    response = api_as(Role.EDITOR).post("/api/campaigns/", {"workspace": mine.workspace.pk, "name": "New"},
                                        format="json")

    assert response.status_code == 201
    assert response.json()["clip_count"] == 0


def test_an_invitation_without_a_role_invites_a_viewer(api_as, mine):
    response = api_as(Role.OWNER).post("/api/invitations/", {"workspace": mine.workspace.pk, "invitee": "0"},
                                       format="json")

    assert response.status_code == 201, response.content
    assert response.json()["role"] == Role.VIEWER
