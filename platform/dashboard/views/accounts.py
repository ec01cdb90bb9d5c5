"""X accounts: token status for everyone, adding and reconnecting for owners. Tokens are never rendered."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone

from accounts.audit import audited_save
from accounts.models import Role
from dashboard.forms.accounts import OAuth1AccountForm, OAuth1TokensForm
from dashboard.workspace import page, scoped, workspace_view
from publishing import gateway, services
from publishing.models import XAccount
from publishing.x import XError


@workspace_view()
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = scoped(XAccount, request).only(
        "pk", "handle", "auth_kind", "status", "status_reason", "token_expires_at", "created_at", "workspace_id",
        "queue_paused",
    )
    return page(request, "dashboard/accounts/list.html", {"accounts": accounts, "now": timezone.now()})


@workspace_view(read=Role.OWNER, write=Role.OWNER)
def account_add(request: HttpRequest) -> HttpResponse:
    form = OAuth1AccountForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        account = audited_save(None, form.save, action="account_connected")
        messages.success(request, f"@{account.handle} connected with OAuth 1.0a tokens.")
        return redirect("dashboard:accounts")
    return page(request, "dashboard/accounts/form.html", {"form": form, "account": None})


@workspace_view(read=Role.OWNER, write=Role.OWNER)
def account_tokens(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(scoped(XAccount, request), pk=pk)
    form = OAuth1TokensForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        def save_tokens() -> XAccount:
            tokens = form.cleaned_data["access_token"], form.cleaned_data["access_token_secret"]
            account.save(update_fields=account.set_oauth1_tokens(*tokens))
            return account

        audited_save(account, save_tokens, action="tokens_replaced")
        messages.success(request, f"New tokens saved for @{account.handle}; it can post again.")
        return redirect("dashboard:accounts")
    return page(request, "dashboard/accounts/form.html", {"form": form, "account": account})


# The PKCE verifier and state wait here between the redirect to X and X's redirect back; used once.
PENDING_KEY = "x_oauth2_pending"


def _start_oauth2(request: HttpRequest, account: XAccount | None) -> HttpResponse:
    if not settings.X_OAUTH2_CLIENT_ID:
        return page(request, "dashboard/accounts/connect.html",
                    {"account": account, "redirect_uri": settings.X_OAUTH2_REDIRECT_URI})
    authorization = gateway.oauth2_flow().authorization_request()
    request.session[PENDING_KEY] = {
        "state": authorization.state, "code_verifier": authorization.code_verifier,
        "workspace_id": request.workspace.pk, "account_id": account.pk if account else None,
    }
    return redirect(authorization.url)


@workspace_view(read=Role.OWNER, write=Role.OWNER)
def x_connect(request: HttpRequest) -> HttpResponse:
    """“Connect with X”: OAuth 2.0 Authorization Code with PKCE; X sends the user back to `x_callback`."""
    return _start_oauth2(request, None)


@workspace_view(read=Role.OWNER, write=Role.OWNER)
def x_reconnect(request: HttpRequest, pk: int) -> HttpResponse:
    """The same flow for an account whose token expired or was revoked; the user must authorize as that account."""
    return _start_oauth2(request, get_object_or_404(scoped(XAccount, request), pk=pk))


@workspace_view(read=Role.OWNER, write=Role.OWNER)
def x_callback(request: HttpRequest) -> HttpResponse:
    pending = request.session.pop(PENDING_KEY, None)
    if not pending or pending.get("workspace_id") != request.workspace.pk:
        messages.error(request, "This X authorization does not belong to a connection started in this workspace "
                                "(or it was already used): click “Connect with X” again.")
        return redirect("dashboard:accounts")
    reconnecting = None
    if pending.get("account_id"):
        reconnecting = scoped(XAccount, request).filter(pk=pending["account_id"]).first()
    try:
        account = services.complete_oauth2_connect(request.workspace, request.get_full_path(), pending["state"],
                                                   pending["code_verifier"], reconnecting)
    except XError as error:
        messages.error(request, f"X account not connected: {error.message}")
        return redirect("dashboard:accounts")
    except ValidationError as error:
        messages.error(request, f"X account not connected: {' '.join(error.messages)}")
        return redirect("dashboard:accounts")
    until = ""
    if account.token_expires_at:
        local = timezone.localtime(account.token_expires_at, zoneinfo.ZoneInfo(request.workspace.timezone))
        until = f"; its token is valid until {local:%H:%M} ({request.workspace.timezone})"
        until += " and is refreshed automatically" if account.refresh_token else ""
    messages.success(request, f"@{account.handle} {'reconnected' if reconnecting else 'connected'} with "
                              f"OAuth 2.0{until}.")
    return redirect("dashboard:accounts")
