"""Invitations on the dashboard: owners invite and revoke on the members page; invitees accept on their own
dashboard or through the emailed link. The inviter reads the same words whether or not the account exists."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Invitation, Membership, Role
from dashboard.workspace import SESSION_KEY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_inviter_reads_the_same_message_for_existing_and_unknown_accounts(owner, mine):
    known = UserFactory()
    pages = []
    for name in (known.username, "no-such-user-at-all"):
        response = owner.post(reverse("dashboard:members"), {"invitee": name, "role": "editor"}, follow=True)
        assert response.status_code == 200
        pages.append(response.content.decode().replace(name, "NAME"))

    message = re.compile(r'<li class="message[^"]*">(.*?)</li>', re.S)
    assert message.findall(pages[0]) == message.findall(pages[1])
    assert "Invitation recorded for NAME" in pages[0]
    assert not Membership.objects.filter(user=known, workspace=mine.workspace).exists()


def test_the_invitee_accepts_on_their_own_dashboard(owner, mine):
    invitee = UserFactory()
    owner.post(reverse("dashboard:members"), {"invitee": invitee.username, "role": "reviewer"})
    client = logged_in(invitee)

    assert "Ask a workspace owner to invite you" in client.get(reverse("dashboard:home")).content.decode()
    listing = client.get(reverse("dashboard:my_invitations")).content.decode()
    assert mine.workspace.name in listing
    invitation = Invitation.objects.get(invitee=invitee.username)
    response = client.post(reverse("dashboard:invitation_answer", args=[invitation.pk]), {"decision": "accept"})

    assert response.status_code == 302 and response["Location"] == reverse("dashboard:home")
    assert Membership.objects.get(user=invitee, workspace=mine.workspace).role == Role.REVIEWER
    assert client.session[SESSION_KEY] == mine.workspace.pk
    assert mine.campaign.name in client.get(reverse("dashboard:campaigns")).content.decode()


def test_the_emailed_link_opens_the_invitation_for_the_invitee_only(owner, mine, django_capture_on_commit_callbacks):
    invitee = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(reverse("dashboard:members"), {"invitee": invitee.email, "role": "viewer"})
    link = re.search(r"https?://\S+(/invitations/[\w-]+/)", mail.outbox[0].body).group(1)

    assert Client().get(link).status_code == 302  # to the login page
    assert logged_in(UserFactory()).get(link).status_code == 404
    page = logged_in(invitee).get(link)
    assert page.status_code == 200 and mine.workspace.name in page.content.decode()
    invitation = Invitation.objects.get()
    logged_in(invitee).post(reverse("dashboard:invitation_answer", args=[invitation.pk]), {"decision": "decline"})
    assert not Membership.objects.filter(user=invitee).exists()
    assert "declined" in logged_in(invitee).get(link).content.decode()


def test_an_owner_revokes_a_pending_invitation(owner, mine):
    invitee = UserFactory()
    owner.post(reverse("dashboard:members"), {"invitee": invitee.username, "role": "viewer"})
    invitation = Invitation.objects.get()
    assert invitee.username in owner.get(reverse("dashboard:members")).content.decode()

    assert owner.post(reverse("dashboard:invitation_revoke", args=[invitation.pk])).status_code == 302
    response = logged_in(invitee).post(reverse("dashboard:invitation_answer", args=[invitation.pk]),
                                       {"decision": "accept"}, follow=True)
    assert "revoked" in response.content.decode()
    assert not Membership.objects.filter(user=invitee).exists()


def test_members_below_owner_see_the_members_but_cannot_invite(login_as, mine):
    for role in (Role.VIEWER, Role.REVIEWER, Role.EDITOR):
        client = login_as(role)
        page = client.get(reverse("dashboard:members")).content.decode()
        assert 'id="members"' in page and 'id="invite-form"' not in page
        assert client.post(reverse("dashboard:members"), {"invitee": "x", "role": "owner"}).status_code == 403
    assert not Invitation.objects.exists()


def test_another_workspaces_invitation_cannot_be_revoked_from_here(owner, theirs):
    other = Invitation.objects.create(workspace=theirs.workspace, invitee="x", role="viewer", token_hash="0" * 64,
                                      expires_at="2999-01-01T00:00:00Z")
    assert owner.post(reverse("dashboard:invitation_revoke", args=[other.pk])).status_code == 404
    assert Invitation.objects.get(pk=other.pk).status == "pending"


def test_an_invalid_invitee_is_explained(owner):
    response = owner.post(reverse("dashboard:members"), {"invitee": "bad@@address", "role": "viewer"})
    assert response.status_code == 200
    assert "is not a valid email address" in response.content.decode()
