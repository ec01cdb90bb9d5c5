"""X accounts: token status for everyone, adding and reconnecting for owners. Tokens are never rendered."""

from __future__ import annotations

import importlib.util

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone

from accounts.models import Role
from dashboard.forms.accounts import OAuth1AccountForm, OAuth1TokensForm
from dashboard.workspace import page, scoped, workspace_view
from publishing.models import AccountStatus, AuthKind, XAccount


@workspace_view()
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = scoped(XAccount, request).only(
        "pk", "handle", "auth_kind", "status", "status_reason", "token_expires_at", "created_at", "workspace_id"
    )
    return page(request, "dashboard/accounts/list.html", {"accounts": accounts, "now": timezone.now()})


@workspace_view(read=Role.OWNER, write=Role.OWNER)
def account_add(request: HttpRequest) -> HttpResponse:
    form = OAuth1AccountForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        account = form.save()
        messages.success(request, f"@{account.handle} connected with OAuth 1.0a tokens.")
        return redirect("dashboard:accounts")
    return page(request, "dashboard/accounts/form.html", {"form": form, "account": None})


@workspace_view(read=Role.OWNER, write=Role.OWNER)
def account_tokens(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(scoped(XAccount, request), pk=pk)
    form = OAuth1TokensForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account.auth_kind = AuthKind.OAUTH1
        account.access_token = form.cleaned_data["access_token"]
        account.access_token_secret = form.cleaned_data["access_token_secret"]
        account.refresh_token = ""
        account.token_expires_at = None
        account.status, account.status_reason = AccountStatus.ACTIVE, ""
        account.save(update_fields=[
            "auth_kind", "access_token", "access_token_secret", "refresh_token", "token_expires_at", "status",
            "status_reason", "updated_at",
        ])
        messages.success(request, f"New tokens saved for @{account.handle}; it can post again.")
        return redirect("dashboard:accounts")
    return page(request, "dashboard/accounts/form.html", {"form": form, "account": account})


def oauth2_available() -> bool:
    try:
        return importlib.util.find_spec("publishing.x.auth") is not None
    except ModuleNotFoundError:  # publishing/x/ itself is not there yet
        return False


@workspace_view(read=Role.OWNER, write=Role.OWNER)
def x_connect(request: HttpRequest) -> HttpResponse:
    """“Connect with X” (OAuth 2.0 PKCE). Until publishing/x/auth.py lands this says so instead of failing."""
    return page(request, "dashboard/accounts/connect.html", {"available": oauth2_available()})
