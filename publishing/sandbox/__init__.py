"""An X API v2 sandbox for Clipcast's tests and `make run`. Pure stdlib; no Django; binds 127.0.0.1 only.

It follows X's official OpenAPI spec (2.167) for the endpoints the client uses:
    POST /2/media/upload/initialize, /2/media/upload/{id}/append, /2/media/upload/{id}/finalize
    GET  /2/media/upload?command=STATUS&media_id=...
    POST /2/tweets; GET /2/tweets?ids=...; GET|DELETE /2/tweets/{id}; GET /2/users/me; GET /2/users/{id}/tweets
    (post.fields or its older name tweet.fields; expansions=attachments.media_keys with media.fields -> includes.media)
    GET  /i/oauth2/authorize (also /2/oauth2/authorize); POST /2/oauth2/token
Auth: OAuth 1.0a HMAC-SHA1 (nonce + timestamp checks) or OAuth 2.0 user tokens with scopes.

Control endpoints (no auth):
    POST   /_sandbox/accounts  {username?, name?, post_limit?, post_window_secs?, daily_post_limit?,
                                timeline_lag_secs? (new posts missing from the user timeline that long),
                                consumer_key? (join that app), client_id?, client_secret?, consumer_secret?,
                                redirect_uri?}  -> user_id, username, consumer_key/secret, access_token/secret,
                                                   client_id/secret
    POST   /_sandbox/apps      {consumer_key?, consumer_secret?, client_id?, client_secret?, redirect_uri?,
                                scopes? (the app's permissions, space-separated; empty: all)}
    GET    /_sandbox/accounts
    POST   /_sandbox/faults    {user_id, kind, count=1, path?, method?, status=503, delay, reset_header=true,
                                reset_in=60, lands=false}
           kind: rate_limit | server_error | delay | unauthorized | processing_failure | stale_timeline (next
                 `count` matching calls; stale_timeline: timeline reads that miss the last `delay`=60 s of posts),
                 expire_tokens | revoke_tokens | expire_media (at once)
           lands=true: a delay or server_error acts after the call took effect (X created the post, then its answer
           was late or a 5xx)
    DELETE /_sandbox/faults?user_id=...
    GET    /_sandbox/posts?user_id=...&include_deleted=1  -> {"count", "posts": [...]}
    GET|POST /_sandbox/config  {processing_secs, access_token_ttl, max_video_bytes, duplicate_window_secs, ...}
    GET    /_sandbox/media/{id}  (the uploaded bytes, with Range)      GET / (page of posted clips)
OAuth 2.0 authorize auto-approves when the app has one account; add `sandbox_user_id=` to pick among several.
"""

from __future__ import annotations

from publishing.sandbox.config import Config
from publishing.sandbox.server import Sandbox, SandboxServer, make_server, serve

__all__ = ["Config", "Sandbox", "SandboxServer", "make_server", "serve"]
