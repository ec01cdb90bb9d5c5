"""The only code that talks to X (through tweepy). No Django here: settings arrive as plain arguments."""

from __future__ import annotations

from publishing.x.auth import SCOPES, AuthorizationRequest, OAuth1Credentials, OAuth2App, OAuth2Flow, OAuth2Token
from publishing.x.client import PublicMetrics, XClient, XPost, XUser
from publishing.x.errors import Reason, XError
from publishing.x.upload import UploadedMedia

__all__ = [
    "SCOPES", "AuthorizationRequest", "OAuth1Credentials", "OAuth2App", "OAuth2Flow", "OAuth2Token", "PublicMetrics",
    "Reason", "UploadedMedia", "XClient", "XError", "XPost", "XUser",
]
