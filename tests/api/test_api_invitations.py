"""Invitations through the API: nobody joins a workspace without accepting, and the inviter learns nothing about
which usernames or addresses have accounts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Invitation, Membership, Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

VOLATILE = {"id", "invitee", "created_at", "expires_at"}


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def owner(mine):
    return MembershipFactory(workspace=mine.workspace, role=Role.OWNER).user


def invite(owner, mine, invitee: str, role: str = Role.EDITOR):
    return as_user(owner).post("/api/invitations/", {"workspace": mine.workspace.pk, "invitee": invitee,
                                                    "role": role}, format="json")


def test_an_owner_cannot_add_a_member_without_their_consent(owner, mine):
    stranger = UserFactory()

    response = as_user(owner).post("/api/memberships/", {"workspace": mine.workspace.pk, "user": stranger.username,
                                                         "role": Role.VIEWER}, format="json")

    assert response.status_code == 405
    assert not Membership.objects.filter(user=stranger).exists()


def test_adding_a_member_answers_alike_for_existing_and_unknown_usernames(owner, mine):
    known = UserFactory()
    answers = [
        as_user(owner).post("/api/memberships/", {"workspace": mine.workspace.pk, "user": name, "role": "viewer"},
                            format="json")
        for name in (known.username, "no-such-user-anywhere")
    ]
    assert answers[0].status_code == answers[1].status_code
    assert answers[0].json() == answers[1].json()


@pytest.mark.parametrize("kind", ["username", "email"])
def test_an_invitation_answers_alike_whether_or_not_the_account_exists(owner, mine, kind):
    known = UserFactory()
    names = (known.username, "nobody-by-that-name") if kind == "username" else (known.email, "nobody@example.org")

    answers = [invite(owner, mine, name) for name in names]

    assert [a.status_code for a in answers] == [201, 201]
    bodies = [{k: v for k, v in a.json().items() if k not in VOLATILE} for a in answers]
    assert bodies[0] == bodies[1] == {"workspace": mine.workspace.pk, "role": "editor", "status": "pending",
                                      "invited_by": owner.username}
    listed = as_user(owner).get("/api/invitations/").json()["results"]
    assert sorted(set(item) for item in listed)[0] == sorted(set(item) for item in listed)[1]
    assert not Membership.objects.filter(user=known, workspace=mine.workspace).exists()


def test_the_invitee_joins_with_the_invited_role_only_by_accepting(owner, mine):
    invitee = UserFactory()
    invitation_id = invite(owner, mine, invitee.username, Role.REVIEWER).json()["id"]
    assert not Membership.objects.filter(user=invitee, workspace=mine.workspace).exists()

    pending = as_user(invitee).get("/api/my-invitations/").json()["results"]
    assert [(p["id"], p["workspace_name"], p["role"]) for p in pending] == [
        (invitation_id, mine.workspace.name, "reviewer")]
    response = as_user(invitee).post(f"/api/my-invitations/{invitation_id}/accept/")

    assert response.status_code == 200
    assert Membership.objects.get(user=invitee, workspace=mine.workspace).role == Role.REVIEWER
    assert as_user(owner).get(f"/api/invitations/{invitation_id}/").json()["status"] == "accepted"
    assert as_user(invitee).get("/api/my-invitations/").json()["results"] == []


def test_declining_leaves_the_invitee_outside(owner, mine):
    invitee = UserFactory()
    invitation_id = invite(owner, mine, invitee.email).json()["id"]

    assert as_user(invitee).post(f"/api/my-invitations/{invitation_id}/decline/").status_code == 200
    assert as_user(invitee).post(f"/api/my-invitations/{invitation_id}/accept/").status_code == 404
    assert not Membership.objects.filter(user=invitee, workspace=mine.workspace).exists()


def test_an_invitation_is_emailed_only_to_an_existing_account(owner, mine, django_capture_on_commit_callbacks):
    invitee = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        invite(owner, mine, "nobody-here")
        invite(owner, mine, invitee.username)

    assert [m.to for m in mail.outbox] == [[invitee.email]]
    assert mine.workspace.name in mail.outbox[0].body
    assert re.search(r"/invitations/[\w-]{40,}/", mail.outbox[0].body)


def test_nobody_else_can_see_or_accept_an_invitation(owner, mine):
    invitee, other = UserFactory(), UserFactory()
    invitation_id = invite(owner, mine, invitee.username).json()["id"]
    member = MembershipFactory(workspace=mine.workspace, role=Role.EDITOR).user

    assert as_user(other).get("/api/my-invitations/").json()["results"] == []
    assert as_user(other).post(f"/api/my-invitations/{invitation_id}/accept/").status_code == 404
    assert as_user(member).get(f"/api/invitations/{invitation_id}/").status_code == 404  # owners only
    assert as_user(member).get("/api/invitations/").json()["results"] == []
    assert not Membership.objects.filter(user=other, workspace=mine.workspace).exists()


def test_only_owners_invite(mine):
    editor = MembershipFactory(workspace=mine.workspace, role=Role.EDITOR).user
    response = invite(editor, mine, "anyone")
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_an_owner_of_another_workspace_cannot_invite_here_or_see_these(owner, mine, theirs):
    other_owner = MembershipFactory(workspace=theirs.workspace, role=Role.OWNER).user
    invitation_id = invite(owner, mine, "someone").json()["id"]

    assert invite(other_owner, mine, "someone").status_code == 400  # mine's workspace does not exist for them
    assert as_user(other_owner).get(f"/api/invitations/{invitation_id}/").status_code == 404
    assert as_user(other_owner).post(f"/api/invitations/{invitation_id}/revoke/").status_code == 404


def test_an_expired_invitation_cannot_be_accepted(owner, mine):
    invitee = UserFactory()
    invitation_id = invite(owner, mine, invitee.username).json()["id"]
    Invitation.objects.filter(pk=invitation_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert as_user(invitee).get("/api/my-invitations/").json()["results"] == []
    assert as_user(invitee).post(f"/api/my-invitations/{invitation_id}/accept/").status_code == 404
    assert as_user(owner).get(f"/api/invitations/{invitation_id}/").json()["status"] == "expired"
    assert not Membership.objects.filter(user=invitee, workspace=mine.workspace).exists()


def test_a_revoked_invitation_cannot_be_accepted(owner, mine):
    invitee = UserFactory()
    invitation_id = invite(owner, mine, invitee.username).json()["id"]

    response = as_user(owner).post(f"/api/invitations/{invitation_id}/revoke/")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert as_user(invitee).post(f"/api/my-invitations/{invitation_id}/accept/").status_code == 404
    again = as_user(owner).post(f"/api/invitations/{invitation_id}/revoke/")
    assert again.status_code == 400 and "already revoked" in again.json()["detail"]


def test_inviting_again_replaces_the_earlier_offer(owner, mine):
    invitee = UserFactory()
    first = invite(owner, mine, invitee.username, Role.VIEWER).json()["id"]
    second = invite(owner, mine, invitee.username, Role.EDITOR).json()["id"]

    assert Invitation.objects.get(pk=first).status == "revoked"
    as_user(invitee).post(f"/api/my-invitations/{second}/accept/")
    assert Membership.objects.get(user=invitee, workspace=mine.workspace).role == Role.EDITOR


def test_an_invitation_by_address_reaches_an_account_made_later(owner, mine):
    invitation_id = invite(owner, mine, "Late.Comer@example.org").json()["id"]
    late = UserFactory(email="late.comer@example.org")

    assert as_user(late).post(f"/api/my-invitations/{invitation_id}/accept/").status_code == 200
    assert Membership.objects.filter(user=late, workspace=mine.workspace).exists()


@pytest.mark.parametrize("invitee", ["", "   ", "not@an@address", "x" * 300])
def test_a_bad_invitee_is_a_400_saying_what_to_give(owner, mine, invitee):
    response = invite(owner, mine, invitee)
    assert response.status_code == 400
    assert "invitee" in response.json()
