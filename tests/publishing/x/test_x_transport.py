"""Where requests go, and that no token ever reaches the logs."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import requests

from publishing.x import OAuth2App, OAuth2Flow, XClient
from publishing.x.transport import Endpoints


def test_x_urls_are_rewritten_to_the_configured_servers():
    endpoints = Endpoints("http://127.0.0.1:8765/", "http://127.0.0.1:9999")
    assert endpoints.rewrite("https://api.twitter.com/2/tweets?x=1") == "http://127.0.0.1:8765/2/tweets?x=1"
    assert endpoints.rewrite("https://api.x.com/2/media/upload/1/append") == "http://127.0.0.1:9999/2/media/upload/1/append"
    assert endpoints.rewrite("https://example.com/2/tweets") == "https://example.com/2/tweets"
    assert endpoints.authorize_url == "http://127.0.0.1:8765/i/oauth2/authorize"
    assert Endpoints().authorize_url == "https://x.com/i/oauth2/authorize"
    assert Endpoints().rewrite("https://api.twitter.com/2/tweets") == "https://api.x.com/2/tweets"


def test_tokens_never_reach_the_logs(sandbox, account, caplog):
    app = OAuth2App(client_id=account["client_id"], client_secret=account["client_secret"],
                    redirect_uri="http://127.0.0.1/cb")
    caplog.set_level(logging.DEBUG)
    flow = OAuth2Flow(app, api_base_url=sandbox.url)
    request = flow.authorization_request()
    location = requests.get(f"{request.url}&sandbox_user_id={account['user_id']}", allow_redirects=False,
                            timeout=5).headers["Location"]
    token = flow.exchange_code(flow.code_from_callback(location, request.state), request.code_verifier)
    client = XClient(oauth2_token=token, oauth2_app=app, api_base_url=sandbox.url, refresh_margin_secs=10**6)
    client.create_post("logged carefully")
    oauth1 = sandbox.client(account)
    oauth1.get_me()

    secrets = [token.access_token, token.refresh_token, client.token.access_token, client.token.refresh_token,
               request.code_verifier, account["access_token_secret"], account["consumer_secret"],
               account["client_secret"]]
    assert "x.http" in caplog.text and "tweepy" in caplog.text  # the debug logs did run
    for secret in secrets:
        assert secret not in caplog.text


def test_the_x_client_and_the_sandbox_need_no_django():
    code = ("import sys, publishing.x, publishing.sandbox, publishing.sandbox.__main__; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))")
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                            timeout=60, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)})
    assert result.stdout.strip() == "[]"
