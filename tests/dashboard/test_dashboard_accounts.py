"""X accounts: token status for all, owners add OAuth 1.0a tokens; tokens are never rendered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from publishing.models import AccountStatus, AuthKind, XAccount

pytestmark = pytest.mark.django_db


def test_the_list_shows_status_and_expiry_but_never_tokens(owner, mine):
    XAccount.objects.filter(pk=mine.account.pk).update(
        status=AccountStatus.NEEDS_RECONNECT, status_reason="X revoked the token: reconnect the account.",
        token_expires_at=timezone.now() - timedelta(hours=1),
    )
    body = owner.get(reverse("dashboard:accounts")).content.decode()
    assert "Needs reconnect" in body and "X revoked the token" in body and "expired" in body
    assert "tok-SECRET" not in body
    assert 'id="connect-x"' in body and 'id="add-oauth1-account"' in body


def test_an_owner_adds_an_oauth1_account(owner, mine):
    response = owner.post(
        reverse("dashboard:account_add"),
        {"handle": "@new_brand", "x_user_id": "12345", "access_token": "at-123", "access_token_secret": "ats-456"},
    )
    assert response.status_code == 302
    account = XAccount.objects.get(handle="new_brand")
    assert account.workspace == mine.workspace and account.auth_kind == AuthKind.OAUTH1
    assert (account.access_token, account.access_token_secret) == ("at-123", "ats-456")
    assert "at-123" not in owner.get(reverse("dashboard:accounts")).content.decode()


def test_a_failed_submit_does_not_echo_tokens_back(owner, mine):
    response = owner.post(
        reverse("dashboard:account_add"),
        {"handle": mine.account.handle, "access_token": "at-echo", "access_token_secret": "ats-echo"},
    )
    body = response.content.decode()
    assert "already connected" in body and "at-echo" not in body and "ats-echo" not in body


def test_replacing_tokens_reactivates_the_account(owner, mine):
    XAccount.objects.filter(pk=mine.account.pk).update(status=AccountStatus.NEEDS_RECONNECT, status_reason="bad")
    owner.post(
        reverse("dashboard:account_tokens", args=[mine.account.pk]),
        {"access_token": "fresh", "access_token_secret": "fresh-secret"},
    )
    mine.account.refresh_from_db()
    assert mine.account.status == AccountStatus.ACTIVE and mine.account.access_token == "fresh"
    assert mine.account.refresh_token == ""


def test_only_owners_manage_accounts(editor, mine):
    assert editor.post(reverse("dashboard:account_add"), {"handle": "x"}).status_code == 403
    assert 'id="connect-x"' not in editor.get(reverse("dashboard:accounts")).content.decode()


def test_connect_with_x_without_an_oauth2_client_says_how_to_configure_it(owner, settings):
    settings.X_OAUTH2_CLIENT_ID = ""
    body = owner.get(reverse("dashboard:x_connect")).content.decode()
    assert "X_OAUTH2_CLIENT_ID" in body and settings.X_OAUTH2_REDIRECT_URI in body
    assert reverse("dashboard:account_add") in body
