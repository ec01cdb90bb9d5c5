"""The only code that talks to X (through tweepy's public API). No Django here: settings arrive as plain arguments.

Why tweepy and not X's official SDK `xdk` (0.10.6, read on 2026-12-06): xdk is 47,450 generated lines on pydantic
that would replace about 300 of ours (client.py; upload.py's chunking and errors.py's mapping stay ours either way),
and none of its request calls passes a timeout, so a stalled X would hang a publish worker; ours all go through
one choke point with X_REQUEST_TIMEOUT / X_CONNECT_TIMEOUT. tweepy is small, pinned below 5, and used only
through its public methods (tests/test_architecture.py checks that).
"""

from __future__ import annotations

from publishing.x.auth import SCOPES, AuthorizationRequest, OAuth1Credentials, OAuth2App, OAuth2Flow, OAuth2Token
from publishing.x.client import PublicMetrics, XClient, XPost, XUser
from publishing.x.errors import Reason, XError
from publishing.x.upload import UploadedMedia

__all__ = [
    "SCOPES", "AuthorizationRequest", "OAuth1Credentials", "OAuth2App", "OAuth2Flow", "OAuth2Token", "PublicMetrics",
    "Reason", "UploadedMedia", "XClient", "XError", "XPost", "XUser",
]
