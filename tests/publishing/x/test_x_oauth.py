"""OAuth 1.0a signatures and OAuth 2.0 PKCE connect/refresh, through tweepy and requests-oauthlib."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from requests_oauthlib import OAuth1

from publishing.x import SCOPES, OAuth2App, OAuth2Flow, OAuth2Token, Reason, XClient, XError
from tests.publishing.x.sandbox_control import oauth1_of

REDIRECT = "http://127.0.0.1:8000/accounts/x/callback"


def test_a_wrong_consumer_secret_is_rejected(sandbox, account):
    client = XClient(oauth1=oauth1_of(account, consumer_secret="not-the-secret"), api_base_url=sandbox.url)
    with pytest.raises(XError) as caught:
        client.create_post("should not post")
    assert caught.value.permanent and caught.value.reason_code == Reason.TOKEN_INVALID and caught.value.status == 401
    assert "reconnect" in caught.value.message
    assert sandbox.posts(account["user_id"]) == []


def test_a_wrong_token_secret_is_rejected(sandbox, account):
    client = XClient(oauth1=oauth1_of(account, access_token_secret="wrong"), api_base_url=sandbox.url)
    with pytest.raises(XError) as caught:
        client.get_me()
    assert caught.value.status == 401


def _signed_get(sandbox, account, **oauth_kwargs):
    auth = OAuth1(account["consumer_key"], account["consumer_secret"], account["access_token"],
                  account["access_token_secret"], **oauth_kwargs)
    return requests.get(f"{sandbox.url}/2/users/me", auth=auth, params={"user.fields": "created_at"}, timeout=5)


def test_a_replayed_nonce_and_a_stale_timestamp_are_rejected(sandbox, account):
    now = str(int(time.time()))
    first = _signed_get(sandbox, account, nonce="fixednonce123", timestamp=now)
    replay = _signed_get(sandbox, account, nonce="fixednonce123", timestamp=now)
    stale = _signed_get(sandbox, account, timestamp=str(int(time.time()) - 3600))
    assert first.status_code == 200 and first.json()["data"]["created_at"]
    assert replay.status_code == 401 and "Nonce" in replay.json()["detail"]
    assert stale.status_code == 401 and "Timestamp" in stale.json()["detail"]
    assert stale.headers["Content-Type"] == "application/problem+json"


def _connect(sandbox, account, app, scopes=SCOPES) -> OAuth2Token:
    flow = OAuth2Flow(app, api_base_url=sandbox.url, scopes=scopes)
    request = flow.authorization_request()
    assert request.url.startswith(f"{sandbox.url}/i/oauth2/authorize?")
    assert "code_challenge_method=S256" in request.url and request.code_verifier not in request.url
    # The user approves in a browser; the sandbox auto-approves for the chosen account and redirects back.
    answer = requests.get(f"{request.url}&sandbox_user_id={account['user_id']}", allow_redirects=False, timeout=5)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(REDIRECT)
    code = flow.code_from_callback(answer.headers["Location"], request.state)
    return flow.exchange_code(code, request.code_verifier)


@pytest.fixture
def app(account) -> OAuth2App:
    return OAuth2App(client_id=account["client_id"], redirect_uri=REDIRECT)


def test_pkce_connect_gives_a_token_that_can_post(sandbox, account, app, client, make_video):
    token = _connect(sandbox, account, app)
    assert token.refresh_token and set(token.scope) == set(SCOPES)
    assert token.expires_at > datetime.now(UTC) + timedelta(minutes=100)

    x = XClient(oauth2_token=token, oauth2_app=app, api_base_url=sandbox.url, upload_base_url=sandbox.url)
    media = x.upload_video(make_video(1.0), min_poll_secs=0.05)
    post = x.create_post("posted with OAuth 2.0", media_ids=[media.media_id], made_with_ai=True)
    assert x.get_me().id == account["user_id"]
    assert sandbox.posts(account["user_id"])[0]["id"] == post.id


def test_a_confidential_client_connects_with_basic_auth(sandbox, account):
    app = OAuth2App(client_id=account["client_id"], client_secret=account["client_secret"], redirect_uri=REDIRECT)
    token = _connect(sandbox, account, app)
    assert XClient(oauth2_token=token, api_base_url=sandbox.url).get_me().id == account["user_id"]


def test_a_wrong_code_verifier_is_refused(sandbox, account, app):
    flow = OAuth2Flow(app, api_base_url=sandbox.url)
    request = flow.authorization_request()
    answer = requests.get(f"{request.url}&sandbox_user_id={account['user_id']}", allow_redirects=False, timeout=5)
    code = flow.code_from_callback(answer.headers["Location"], request.state)
    with pytest.raises(XError) as caught:
        flow.exchange_code(code, "x" * 64)
    assert caught.value.permanent and caught.value.reason_code == Reason.AUTHORIZATION_FAILED


def test_a_callback_with_another_state_is_refused(sandbox, app):
    with pytest.raises(XError) as caught:
        OAuth2Flow.code_from_callback(f"{REDIRECT}?state=forged&code=abc", "expected")
    assert "state mismatch" in caught.value.message


def test_a_token_about_to_expire_is_refreshed_before_the_call(sandbox, account, app):
    sandbox.configure(access_token_ttl=60)
    token = _connect(sandbox, account, app)
    saved: list[OAuth2Token] = []
    x = XClient(oauth2_token=token, oauth2_app=app, on_token_refresh=saved.append, api_base_url=sandbox.url,
                refresh_margin_secs=300)

    x.get_me()

    assert len(saved) == 1 and x.token == saved[0]
    assert saved[0].access_token != token.access_token and saved[0].refresh_token != token.refresh_token
    # X rotates refresh tokens: the old one is dead now.
    with pytest.raises(XError):
        OAuth2Flow(app, api_base_url=sandbox.url).refresh(token)


def test_an_expired_token_is_refreshed_once_and_the_call_retried(sandbox, account, app):
    token = _connect(sandbox, account, app)
    saved: list[OAuth2Token] = []
    x = XClient(oauth2_token=token, oauth2_app=app, on_token_refresh=saved.append, api_base_url=sandbox.url)
    sandbox.fault(account["user_id"], "expire_tokens")

    post = x.create_post("after expiry")

    assert len(saved) == 1 and sandbox.posts(account["user_id"])[0]["id"] == post.id


def test_an_expired_token_without_refresh_is_a_permanent_error(sandbox, account, app):
    token = _connect(sandbox, account, app)
    sandbox.fault(account["user_id"], "expire_tokens")
    with pytest.raises(XError) as caught:
        XClient(oauth2_token=token, api_base_url=sandbox.url).get_me()
    assert caught.value.permanent and caught.value.reason_code == Reason.TOKEN_INVALID


def test_a_revoked_authorization_asks_to_reconnect(sandbox, account, app):
    token = _connect(sandbox, account, app)
    sandbox.fault(account["user_id"], "revoke_tokens")
    with pytest.raises(XError) as caught:
        XClient(oauth2_token=token, oauth2_app=app, api_base_url=sandbox.url).get_me()
    assert caught.value.permanent and caught.value.reason_code == Reason.AUTHORIZATION_FAILED
    assert "reconnect" in caught.value.message


def test_an_app_without_media_permission_is_explained_at_connect(sandbox, make_video):
    account = sandbox.create_account(scopes="tweet.read tweet.write users.read offline.access")
    app = OAuth2App(client_id=account["client_id"], redirect_uri=REDIRECT)
    with pytest.raises(XError) as caught:
        _connect(sandbox, account, app)
    assert caught.value.permanent and caught.value.reason_code == Reason.MISSING_SCOPE
    assert "media.write" in caught.value.message and "developer portal" in caught.value.message


def test_a_token_without_media_write_cannot_upload(sandbox, account, app, make_video):
    token = _connect(sandbox, account, app, scopes=("tweet.read", "tweet.write", "users.read"))
    with pytest.raises(XError) as caught:
        XClient(oauth2_token=token, api_base_url=sandbox.url).upload_video(make_video(1.0))
    assert caught.value.permanent and caught.value.reason_code == Reason.MISSING_SCOPE
    assert "media.write" in caught.value.message


def test_token_round_trips_through_storage_and_hides_secrets_in_repr():
    token = OAuth2Token("SECRET-ACCESS", "SECRET-REFRESH", datetime(2030, 1, 1, tzinfo=UTC), ("tweet.read",))
    assert OAuth2Token.from_dict(token.to_dict()) == token
    assert "SECRET" not in repr(token)


def test_workers_sharing_a_token_refresh_it_once_through_a_refresher(sandbox, account, app):
    token = _connect(sandbox, account, app)
    flow = OAuth2Flow(app, api_base_url=sandbox.url)
    stored, lock, refreshes = {"token": token}, threading.Lock(), []

    def refresher(old: OAuth2Token) -> OAuth2Token:
        # What the Django side does with select_for_update on the account row.
        with lock:
            if stored["token"].access_token == old.access_token:
                stored["token"] = flow.refresh(old)
                refreshes.append(stored["token"])
            return stored["token"]

    workers = [XClient(oauth2_token=token, oauth2_app=app, refresher=refresher, api_base_url=sandbox.url)
               for _ in range(2)]
    sandbox.fault(account["user_id"], "expire_tokens")
    assert [w.get_me().id for w in workers] == [account["user_id"]] * 2
    assert len(refreshes) == 1 and workers[0].token == workers[1].token == stored["token"]


def test_without_a_refresher_a_second_worker_loses_to_token_rotation(sandbox, account, app):
    token = _connect(sandbox, account, app)
    first, second = (XClient(oauth2_token=token, oauth2_app=app, api_base_url=sandbox.url) for _ in range(2))
    sandbox.fault(account["user_id"], "expire_tokens")
    first.get_me()
    with pytest.raises(XError) as caught:
        second.get_me()
    assert caught.value.reason_code == Reason.AUTHORIZATION_FAILED


def test_an_upload_rejected_half_way_is_sent_whole_after_the_refresh(sandbox, account, app, make_video):
    token = _connect(sandbox, account, app)
    refreshed: list[OAuth2Token] = []
    x = XClient(oauth2_token=token, oauth2_app=app, on_token_refresh=refreshed.append, api_base_url=sandbox.url,
                upload_base_url=sandbox.url)
    # X rejects the token half way through the chunks: the client refreshes and starts the upload over.
    sandbox.fault(account["user_id"], "unauthorized", path="/2/media/upload/*/append", count=1)
    with make_video(1.0).open("rb") as handle:
        handle.seek(0)
        media = x.upload_video(handle, chunk_size=1024, min_poll_secs=0.05)
    assert media.size == make_video(1.0).stat().st_size and media.state == "succeeded"
    assert len(refreshed) == 1
