"""Who reads the audit log, and what it never holds: members read their own workspace's log (API and dashboard),
nobody else's; secrets (tokens, invitation tokens, passwords) never reach `changes`; events are never changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import audit
from accounts import services as account_services
from accounts.models import AuditEvent, Role
from publishing import services as publishing_services
from publishing.models import XAccount
from publishing.x import OAuth2Token, XUser
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def client_in(workspace, role: Role = Role.VIEWER) -> APIClient:
    client = APIClient()
    client.force_authenticate(MembershipFactory(workspace=workspace, role=role).user)
    return client


def an_event(world, action: str = "cancelled") -> AuditEvent:
    return audit.record(action, world.post, {"status": ["scheduled", "cancelled"]}, actor=None)


def every_change_written() -> str:
    return json.dumps([(e.changes, e.object_repr) for e in AuditEvent.objects.all()])


# Reading


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_member_reads_their_workspaces_log_and_never_anothers(mine, theirs, role):
    ours, other = an_event(mine), an_event(theirs)
    client = client_in(mine.workspace, role)

    listed = client.get("/api/audit-events/")

    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [ours.pk]
    row = listed.json()["results"][0]
    assert {"actor", "action", "object_type", "object_id", "at", "changes"} <= row.keys()
    assert (row["actor"], row["action"], row["object_type"], row["object_id"]) == (
        "system", "cancelled", "publishing.post", str(mine.post.pk))
    assert client.get(f"/api/audit-events/{ours.pk}/").status_code == 200
    assert client.get(f"/api/audit-events/{other.pk}/").status_code == 404
    assert client.get(f"/api/audit-events/?workspace={theirs.workspace.pk}").json().get("results", []) == []


def test_someone_in_no_workspace_reads_nothing_and_an_anonymous_caller_is_refused(mine):
    an_event(mine)
    loner = APIClient()
    loner.force_authenticate(UserFactory())

    assert loner.get("/api/audit-events/").json()["results"] == []
    assert APIClient().get("/api/audit-events/").status_code in (401, 403)


def test_the_api_log_is_read_only(mine):
    event = an_event(mine)
    client = client_in(mine.workspace, Role.OWNER)

    assert client.post("/api/audit-events/", {"action": "forged"}, format="json").status_code == 405
    assert client.patch(f"/api/audit-events/{event.pk}/", {"action": "forged"}, format="json").status_code == 405
    assert client.delete(f"/api/audit-events/{event.pk}/").status_code == 405
    assert AuditEvent.objects.get(pk=event.pk).action == "cancelled"


def test_the_api_filters_by_object_actor_action_and_time(mine):
    user = MembershipFactory(workspace=mine.workspace, role=Role.EDITOR).user
    cancelled = an_event(mine)
    approved = audit.record("approved", mine.pending, {"review_status": ["pending", "approved"]}, actor=user)
    client = client_in(mine.workspace)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/audit-events/?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("action=approved") == [approved.pk]
    assert ids(f"actor={user.username}") == [approved.pk]
    assert ids("actor=system") == [cancelled.pk]
    assert ids(f"object_type=publishing.post&object_id={mine.post.pk}") == [cancelled.pk]
    assert ids("since=2999-01-01T00:00:00Z") == []
    assert sorted(ids("until=2999-01-01T00:00:00Z")) == sorted([cancelled.pk, approved.pk])
    assert client.get("/api/audit-events/?since=yesterday").status_code == 400


def test_the_api_log_is_paginated_and_in_the_openapi_schema(mine):
    AuditEvent.objects.bulk_create([audit._event("cancelled", mine.post, {}, None) for _ in range(51)])
    client = client_in(mine.workspace)

    first = client.get("/api/audit-events/").json()

    assert first["count"] == 51 and len(first["results"]) == 50 and first["next"]
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/audit-events/"]["get"]
    assert {"actor", "action", "object_type", "object_id", "since", "until", "page"} <= {
        p["name"] for p in operation["parameters"]}
    assert set(schema["paths"]["/api/audit-events/"]) == {"get"}


def test_the_dashboard_page_shows_this_workspaces_log_filtered_and_is_in_the_navigation(mine, theirs, viewer):
    user = MembershipFactory(workspace=mine.workspace, role=Role.EDITOR).user
    audit.record("approved", mine.pending, {"review_status": ["pending", "approved"]}, actor=user)
    audit.record("renamed-elsewhere", theirs.campaign, {"name": ["Theirs", "Secret plan"]}, actor=None)
    an_event(mine)

    page = viewer.get(reverse("dashboard:audit_log")).content.decode()
    filtered = viewer.get(reverse("dashboard:audit_log"), {"actor": user.username}).content.decode()

    assert 'href="/audit/"' in page and "Audit log" in page
    assert "approved" in page and "cancelled" in page and user.username in page
    assert "Secret plan" not in page and "renamed-elsewhere" not in page
    assert "approved" in filtered and "scheduled → cancelled" not in filtered and "scheduled → cancelled" in page


# Secrets


def test_x_account_tokens_never_reach_the_log_from_the_dashboard(mine, owner):
    owner.post("/accounts/new/", {"handle": "newbrand", "x_user_id": "", "access_token": "SECRET-access-1",
                                  "access_token_secret": "SECRET-secret-1"})
    account = XAccount.objects.get(workspace=mine.workspace, handle="newbrand")
    owner.post(f"/accounts/{account.pk}/tokens/", {"access_token": "SECRET-access-2",
                                                   "access_token_secret": "SECRET-secret-2"})

    connected, replaced = AuditEvent.objects.filter(object_type="publishing.xaccount").order_by("pk")
    assert (connected.action, replaced.action) == ("account_connected", "tokens_replaced")
    assert connected.changes["access_token"] == [None, audit.REDACTED]
    assert replaced.changes["access_token"] == [audit.REDACTED, audit.REDACTED], "a new token shows as a change"
    assert "SECRET" not in every_change_written()


def test_oauth2_tokens_never_reach_the_log_on_connect_or_reconnect(mine):
    me = XUser(id="4242", username="oauthbrand", name="OAuth Brand")
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    first = OAuth2Token("SECRET-oauth-access-1", "SECRET-oauth-refresh-1", expires, ("tweet.write",))
    again = OAuth2Token("SECRET-oauth-access-2", "SECRET-oauth-refresh-2", expires, ("tweet.write",))

    account = publishing_services.connect_oauth2_account(mine.workspace, first, me)
    publishing_services.connect_oauth2_account(mine.workspace, again, me, reconnecting=account)

    connected, reconnected = AuditEvent.objects.filter(object_id=str(account.pk),
                                                       object_type="publishing.xaccount").order_by("pk")
    assert (connected.action, reconnected.action) == ("account_connected", "account_reconnected")
    assert reconnected.changes["refresh_token"] == [audit.REDACTED, audit.REDACTED]
    assert "SECRET" not in every_change_written()


def test_invitation_tokens_never_reach_the_log(mine):
    owner = MembershipFactory(workspace=mine.workspace, role=Role.OWNER).user
    invitation, token = account_services.invite(mine.workspace, "guest@example.com", Role.EDITOR, owner)
    account_services.revoke(invitation)

    written = every_change_written()
    assert token not in written and invitation.token_hash not in written


def test_a_password_change_recorded_by_hand_is_still_redacted(mine):
    user = UserFactory()
    event = audit.record("updated", mine.workspace, {"password": ["old-pw-123", "new-pw-456"],
                                                     "api_key": "SECRET-key", "name": ["A", "B"]})

    assert event.changes == {"password": [audit.REDACTED, audit.REDACTED],
                             "api_key": [audit.REDACTED, audit.REDACTED], "name": ["A", "B"]}
    assert "pw-" not in every_change_written() and user.password not in every_change_written()


def test_snapshots_redact_encrypted_fields_whatever_their_name(mine):
    snap = audit.diff({}, audit.snapshot(mine.account))

    assert snap["access_token"] == snap["access_token_secret"] == snap["refresh_token"] == [None, audit.REDACTED]
    assert "tok-SECRET" not in json.dumps(snap)


# Append-only


def test_an_event_cannot_be_changed_or_deleted(mine):
    event = an_event(mine)

    event.action = "forged"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "cancelled"


def test_admins_read_every_workspaces_log_in_the_admin_but_cannot_add_change_or_delete(mine, theirs, client,
                                                                                       superuser):
    ours, other = an_event(mine), an_event(theirs)
    client.force_login(superuser)

    listing = client.get("/admin/accounts/auditevent/")
    assert listing.status_code == 200
    assert f"/admin/accounts/auditevent/{ours.pk}/change/" in listing.content.decode()
    assert f"/admin/accounts/auditevent/{other.pk}/change/" in listing.content.decode()
    assert client.get("/admin/accounts/auditevent/add/").status_code == 403
    detail = client.get(f"/admin/accounts/auditevent/{ours.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert client.post(f"/admin/accounts/auditevent/{ours.pk}/change/", {"action": "forged"}).status_code == 403
    assert client.post(f"/admin/accounts/auditevent/{ours.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk__in=[ours.pk, other.pk]).count() == 2


def test_a_workspace_deleted_takes_its_log_with_it():
    workspace = WorkspaceFactory()
    audit.record("settings_changed", workspace, {"name": ["Old", "New"]}, actor=None)

    workspace_id = workspace.pk
    workspace.delete()

    assert not AuditEvent.objects.filter(workspace_id=workspace_id).exists()


@pytest.mark.django_db(transaction=True)
def test_recording_outside_the_changes_transaction_is_refused():
    workspace = WorkspaceFactory()

    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit.record("settings_changed", workspace, {"name": ["A", "B"]}, actor=None)

    assert not AuditEvent.objects.exists()


def test_an_actor_who_leaves_keeps_their_name_on_the_events(mine):
    user = MembershipFactory(workspace=mine.workspace, role=Role.EDITOR).user
    event = audit.record("approved", mine.pending, {"review_status": ["pending", "approved"]}, actor=user)

    user.delete()

    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.actor, event.actor_name) == (None, user.username)
