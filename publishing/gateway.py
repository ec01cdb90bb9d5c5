"""Building an X client for a stored account: credentials from the encrypted row, URLs from settings, and
OAuth 2.0 refreshes serialised through the database (X rotates refresh tokens: two racing refreshes break one)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from publishing.models import AuthKind, XAccount
from publishing.x import OAuth1Credentials, OAuth2App, OAuth2Flow, OAuth2Token, XClient


def oauth2_app() -> OAuth2App:
    return OAuth2App(settings.X_OAUTH2_CLIENT_ID, settings.X_OAUTH2_REDIRECT_URI, settings.X_OAUTH2_CLIENT_SECRET)


def oauth2_flow() -> OAuth2Flow:
    return OAuth2Flow(oauth2_app(), api_base_url=settings.X_API_BASE_URL, timeout=settings.X_REQUEST_TIMEOUT,
                      connect_timeout=settings.X_CONNECT_TIMEOUT)


def stored_token(account: XAccount) -> OAuth2Token:
    return OAuth2Token(account.access_token, account.refresh_token or None, account.token_expires_at)


def store_token(account_id: int, token: OAuth2Token) -> None:
    account = XAccount.objects.get(pk=account_id)
    # X may answer a refresh without a new refresh token: the old one then stays good.
    fields = account.set_oauth2_token(token.access_token, token.refresh_token or account.refresh_token,
                                      token.expires_at)
    account.save(update_fields=fields)


def _refresher(account_id: int):
    def refresh(old: OAuth2Token) -> OAuth2Token:
        with transaction.atomic():
            account = XAccount.objects.select_for_update().get(pk=account_id)
            if account.access_token != old.access_token:
                return stored_token(account)  # another process refreshed while we waited for the lock
            fresh = oauth2_flow().refresh(old)
            store_token(account_id, fresh)
            return fresh

    return refresh


def _endpoints() -> dict:
    return {"api_base_url": settings.X_API_BASE_URL, "upload_base_url": settings.X_UPLOAD_BASE_URL,
            "timeout": settings.X_REQUEST_TIMEOUT, "connect_timeout": settings.X_CONNECT_TIMEOUT}


def client_for_token(token: OAuth2Token) -> XClient:
    """A client for a token not stored yet (the connect callback asks X whose it is)."""
    return XClient(oauth2_token=token, oauth2_app=oauth2_app(), **_endpoints())


def client_for(account: XAccount) -> XClient:
    common = _endpoints()
    if account.auth_kind == AuthKind.OAUTH1:
        credentials = OAuth1Credentials(settings.X_CONSUMER_KEY, settings.X_CONSUMER_SECRET, account.access_token,
                                        account.access_token_secret)
        return XClient(oauth1=credentials, **common)
    return XClient(oauth2_token=stored_token(account), oauth2_app=oauth2_app(), refresher=_refresher(account.pk),
                   **common)


def post_url(account: XAccount, post_id: str) -> str:
    return f"{settings.X_WEB_BASE_URL.rstrip('/')}/{account.handle}/status/{post_id}"
