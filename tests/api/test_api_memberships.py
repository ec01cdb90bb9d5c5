"""Memberships through the API: a workspace always keeps an owner, and a membership never moves."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Role
from tests.factories import MembershipFactory, WorkspaceFactory


@pytest.fixture
def owner(mine) -> Membership:
    return MembershipFactory(workspace=mine.workspace, role=Role.OWNER)


@pytest.fixture
def owner_client(owner) -> APIClient:
    client = APIClient()
    client.force_authenticate(owner.user)
    return client


def test_the_only_owner_cannot_demote_themselves(owner_client, owner):
    response = owner_client.patch(f"/api/memberships/{owner.pk}/", {"role": Role.VIEWER}, format="json")

    assert response.status_code == 400
    assert "only owner" in str(response.json())
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER


def test_the_only_owner_cannot_be_removed(owner_client, owner):
    response = owner_client.delete(f"/api/memberships/{owner.pk}/")

    assert response.status_code == 400
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_an_owner_can_step_down_once_there_is_another_owner(owner_client, owner, mine):
    MembershipFactory(workspace=mine.workspace, role=Role.OWNER)

    response = owner_client.patch(f"/api/memberships/{owner.pk}/", {"role": Role.EDITOR}, format="json")

    assert response.status_code == 200
    assert Membership.objects.get(pk=owner.pk).role == Role.EDITOR


def test_a_membership_cannot_be_moved_into_a_workspace_where_the_caller_is_not_owner(owner_client, owner, mine):
    elsewhere = WorkspaceFactory()
    MembershipFactory(workspace=elsewhere, user=owner.user, role=Role.VIEWER)
    member = MembershipFactory(workspace=mine.workspace, role=Role.VIEWER)

    response = owner_client.patch(f"/api/memberships/{member.pk}/", {"workspace": elsewhere.pk, "role": Role.OWNER},
                                  format="json")

    assert response.status_code == 400
    assert not Membership.objects.filter(workspace=elsewhere, user=member.user).exists()
