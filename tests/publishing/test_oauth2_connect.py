"""“Connect with X” end to end: the dashboard's OAuth 2.0 PKCE redirect flow against the X sandbox."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from publishing import gateway
from publishing.models import AccountStatus, AuthKind, XAccount
from publishing.services import connect_oauth2_account
from publishing.x import OAuth2Token, XUser
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/accounts/connect/callback/"


@pytest.fixture
def x_app(sandbox, settings) -> dict:
    """A sandbox X app with this site's OAuth 2.0 client id and one account (so authorize auto-approves)."""
    client_id = f"clipcast-test-{uuid.uuid4().hex[:12]}"
    consumer_key = f"ck-{uuid.uuid4().hex[:12]}"
    settings.X_API_BASE_URL = settings.X_UPLOAD_BASE_URL = settings.X_WEB_BASE_URL = sandbox.url
    settings.X_OAUTH2_CLIENT_ID, settings.X_OAUTH2_CLIENT_SECRET = client_id, ""
    settings.X_OAUTH2_REDIRECT_URI = CALLBACK
    return {"client_id": client_id, "consumer_key": consumer_key}


def make_app(sandbox, x_app: dict, scopes: str = "") -> dict:
    response = sandbox.http.post(f"{sandbox.url}/_sandbox/apps", timeout=5, json={
        "client_id": x_app["client_id"], "consumer_key": x_app["consumer_key"], "redirect_uri": CALLBACK,
        "scopes": scopes})
    response.raise_for_status()
    return sandbox.create_account(consumer_key=x_app["consumer_key"])


@pytest.fixture
def workspace():
    return WorkspaceFactory(timezone="Europe/Berlin")


def login(workspace, role: Role = Role.OWNER) -> Client:
    membership = MembershipFactory(workspace=workspace, role=role, user=UserFactory())
    client = Client()
    client.force_login(membership.user)
    client.user = membership.user
    return client


def authorize_on_x(client: Client, start_url: str) -> str:
    """Follow the dashboard's redirect to the sandbox's authorize page, which approves and sends us back."""
    start = client.get(start_url)
    assert start.status_code == 302, start.content[:500]
    assert start["Location"].startswith("http://127.0.0.1:")
    assert "code_challenge_method=S256" in start["Location"]
    assert client.session["x_oauth2_pending"]["code_verifier"] not in start["Location"]
    answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    assert answer.headers["Location"].startswith(CALLBACK)
    callback = urlsplit(answer.headers["Location"])
    return f"{callback.path}?{callback.query}"


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_an_owner_connects_an_x_account_with_oauth2_pkce(sandbox, x_app, workspace):
    on_x = make_app(sandbox, x_app)
    owner = login(workspace)

    page = owner.get(authorize_on_x(owner, reverse("dashboard:x_connect")), follow=True)

    account = XAccount.objects.get(workspace=workspace)
    assert (account.handle, account.x_user_id, account.auth_kind) == (on_x["username"], on_x["user_id"],
                                                                        AuthKind.OAUTH2)
    assert account.status == AccountStatus.ACTIVE and account.access_token and account.refresh_token
    assert timezone.now() + timedelta(minutes=100) < account.token_expires_at < timezone.now() + timedelta(hours=3)
    body = page.content.decode()
    assert f"@{on_x['username']} connected with OAuth 2.0" in messages_of(page)
    assert "OAuth 2.0 user token" in body and account.access_token not in body and account.refresh_token not in body
    assert "x_oauth2_pending" not in owner.session
    with gateway.client_for(account) as client:
        assert client.get_me().id == on_x["user_id"]


def test_reconnecting_an_account_that_needs_it_makes_it_active_with_a_new_token(sandbox, x_app, workspace):
    on_x = make_app(sandbox, x_app)
    account = XAccount.objects.create(workspace=workspace, handle=on_x["username"], x_user_id=on_x["user_id"],
                                      auth_kind=AuthKind.OAUTH2, access_token="revoked", refresh_token="revoked",
                                      status=AccountStatus.NEEDS_RECONNECT, status_reason="X revoked the token.")
    owner = login(workspace)
    listing = owner.get(reverse("dashboard:accounts")).content.decode()
    assert reverse("dashboard:x_reconnect", args=[account.pk]) in listing

    page = owner.get(authorize_on_x(owner, reverse("dashboard:x_reconnect", args=[account.pk])), follow=True)

    account.refresh_from_db()
    assert XAccount.objects.filter(workspace=workspace).count() == 1
    assert account.status == AccountStatus.ACTIVE and account.status_reason == ""
    assert account.access_token != "revoked" and account.refresh_token != "revoked"
    assert f"@{on_x['username']} reconnected" in messages_of(page)


def test_an_oauth1_account_of_the_same_handle_is_switched_to_oauth2_not_duplicated(sandbox, x_app, workspace):
    on_x = make_app(sandbox, x_app)
    account = XAccount.objects.create(workspace=workspace, handle=on_x["username"].upper(),
                                      auth_kind=AuthKind.OAUTH1, access_token="a", access_token_secret="s")
    owner = login(workspace)
    owner.get(authorize_on_x(owner, reverse("dashboard:x_connect")))
    account.refresh_from_db()
    assert account.auth_kind == AuthKind.OAUTH2 and account.access_token_secret == ""
    assert account.x_user_id == on_x["user_id"] and XAccount.objects.filter(workspace=workspace).count() == 1


def test_reconnecting_as_another_x_user_is_refused(sandbox, x_app, workspace):
    make_app(sandbox, x_app)
    account = XAccount.objects.create(workspace=workspace, handle="the_brand", x_user_id="999999",
                                      auth_kind=AuthKind.OAUTH2, access_token="old",
                                      status=AccountStatus.NEEDS_RECONNECT)
    owner = login(workspace)
    page = owner.get(authorize_on_x(owner, reverse("dashboard:x_reconnect", args=[account.pk])), follow=True)
    assert page.status_code == 200
    assert "sign in to X as @the_brand" in messages_of(page)
    account.refresh_from_db()
    assert account.access_token == "old" and account.status == AccountStatus.NEEDS_RECONNECT


def test_a_declined_authorization_says_to_approve_the_app(sandbox, x_app, workspace):
    make_app(sandbox, x_app)
    owner = login(workspace)
    owner.get(reverse("dashboard:x_connect"))
    state = owner.session["x_oauth2_pending"]["state"]
    page = owner.get(reverse("dashboard:x_callback"), {"error": "access_denied", "state": state}, follow=True)
    assert page.status_code == 200
    assert "was not granted (access_denied)" in messages_of(page) and "approve the app" in messages_of(page)
    assert not XAccount.objects.filter(workspace=workspace).exists()


def test_a_callback_whose_state_does_not_match_is_refused(sandbox, x_app, workspace):
    make_app(sandbox, x_app)
    owner = login(workspace)
    callback = authorize_on_x(owner, reverse("dashboard:x_connect"))
    state = owner.session["x_oauth2_pending"]["state"]
    page = owner.get(callback.replace(f"state={state}", "state=forged"), follow=True)
    assert "state mismatch" in messages_of(page) and "start connecting the account again" in messages_of(page)
    assert not XAccount.objects.filter(workspace=workspace).exists()
    # The pending connect was used up: replaying the genuine callback does not connect either.
    replay = owner.get(callback, follow=True)
    assert "click “Connect with X” again" in messages_of(replay)
    assert not XAccount.objects.filter(workspace=workspace).exists()


def test_an_app_without_write_permission_says_what_to_enable(sandbox, x_app, workspace):
    make_app(sandbox, x_app, scopes="tweet.read users.read offline.access")
    owner = login(workspace)
    page = owner.get(authorize_on_x(owner, reverse("dashboard:x_connect")), follow=True)
    text = messages_of(page)
    assert page.status_code == 200 and "X account not connected" in text
    assert "media.write" in text and "tweet.write" in text and "developer portal" in text
    assert not XAccount.objects.filter(workspace=workspace).exists()


def test_a_callback_from_a_connect_started_in_another_workspace_is_refused(sandbox, x_app, workspace):
    make_app(sandbox, x_app)
    owner = login(workspace)
    callback = authorize_on_x(owner, reverse("dashboard:x_connect"))
    other = WorkspaceFactory()
    MembershipFactory(workspace=other, role=Role.OWNER, user=owner.user)
    owner.post(reverse("dashboard:switch_workspace"), {"workspace": other.pk})
    page = owner.get(callback, follow=True)
    assert "click “Connect with X” again" in messages_of(page)
    assert not XAccount.objects.exists()


def test_only_owners_connect_accounts(x_app, workspace):
    editor = login(workspace, Role.EDITOR)
    assert editor.get(reverse("dashboard:x_connect")).status_code == 403
    assert editor.get(reverse("dashboard:x_callback"), {"state": "s", "code": "c"}).status_code == 403


def test_reconnecting_into_a_handle_another_account_row_holds_is_refused(workspace):
    stale = XAccount.objects.create(workspace=workspace, handle="old_name", status=AccountStatus.NEEDS_RECONNECT)
    XAccount.objects.create(workspace=workspace, handle="new_name", x_user_id="")
    with pytest.raises(ValidationError, match="@new_name is already connected in this workspace"):
        connect_oauth2_account(workspace, OAuth2Token("fresh"), XUser(id="42", username="new_name", name=""), stale)
    stale.refresh_from_db()
    assert stale.handle == "old_name" and stale.status == AccountStatus.NEEDS_RECONNECT
