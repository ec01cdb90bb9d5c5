"""XClient: everything Clipcast asks of X, on one tweepy Client, raising only XError."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import requests
import tweepy
from oauthlib.oauth2 import OAuth2Error

from publishing.x.auth import OAuth1Credentials, OAuth2App, OAuth2Flow, OAuth2Token
from publishing.x.errors import from_exception
from publishing.x.transport import DEFAULT_API_BASE_URL, Endpoints, Timeouts, XSession, install_log_redaction
from publishing.x.upload import CHUNK_SIZE, RETRY_DELAYS, ChunkedUpload, ProgressCallback, Source, UploadedMedia

log = logging.getLogger(__name__)
T = TypeVar("T")
POST_FIELDS = "author_id,created_at,public_metrics,attachments"
# The spec's way to get a post's media: expansions=attachments.media_keys puts the keys on each post and the media
# objects (media_key, type) in includes.media.
POST_PARAMS = {"tweet_fields": POST_FIELDS, "expansions": "attachments.media_keys", "media_fields": "media_key,type"}
URL_RE = re.compile(r"https?://\S+")


def comparable_text(text: str) -> str:
    """Text reduced to what survives X's rewriting (NFC, links turned into t.co, a link appended for media)."""
    return " ".join(URL_RE.sub(" ", unicodedata.normalize("NFC", text)).split())


@dataclass(frozen=True)
class XUser:
    id: str
    username: str
    name: str


@dataclass(frozen=True)
class PublicMetrics:
    """A post's public metrics under X's own field names, which Clipcast stores as they are."""

    impression_count: int
    like_count: int
    retweet_count: int
    reply_count: int
    quote_count: int
    bookmark_count: int

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> PublicMetrics:
        return cls(
            impression_count=int(data.get("impression_count", 0)), like_count=int(data.get("like_count", 0)),
            # X answers retweet_count; spec 2.167 calls it repost_count.
            retweet_count=int(data.get("retweet_count", data.get("repost_count", 0))),
            reply_count=int(data.get("reply_count", 0)), quote_count=int(data.get("quote_count", 0)),
            bookmark_count=int(data.get("bookmark_count", 0)),
        )


@dataclass(frozen=True)
class XPost:
    id: str
    text: str
    author_id: str | None = None
    created_at: datetime | None = None
    media_keys: tuple[str, ...] = ()
    metrics: PublicMetrics | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> XPost:
        created = data.get("created_at")
        metrics = data.get("public_metrics")
        return cls(
            id=str(data["id"]), text=data.get("text", ""), author_id=data.get("author_id"),
            created_at=datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None,
            media_keys=tuple((data.get("attachments") or {}).get("media_keys") or ()),
            metrics=PublicMetrics.from_api(metrics) if metrics else None,
        )

    def url(self, username: str) -> str:
        return f"https://x.com/{username}/status/{self.id}"


class XClient:
    """One X account. Give either OAuth 1.0a credentials or an OAuth 2.0 user token (with the app to refresh it).

    `on_token_refresh(new_token)` is called after every refresh so the caller can store the rotated tokens: X
    invalidates the old refresh token as soon as it is used. Where several processes share one account, pass
    `refresher(old_token) -> token` instead: it should lock the stored token, return it if another process already
    replaced `old_token`, and otherwise refresh with `OAuth2Flow.refresh` and store the result.
    """

    def __init__(self, *, oauth1: OAuth1Credentials | None = None, oauth2_token: OAuth2Token | None = None,
                 oauth2_app: OAuth2App | None = None, on_token_refresh: Callable[[OAuth2Token], None] | None = None,
                 refresher: Callable[[OAuth2Token], OAuth2Token] | None = None,
                 api_base_url: str = DEFAULT_API_BASE_URL, upload_base_url: str = "", timeout: float = 30.0,
                 connect_timeout: float = 10.0, refresh_margin_secs: float = 300.0) -> None:
        if (oauth1 is None) == (oauth2_token is None):
            raise ValueError("Give exactly one of oauth1 or oauth2_token.")
        install_log_redaction()
        self.endpoints = Endpoints(api_base_url, upload_base_url)
        self.timeouts = Timeouts(connect_timeout, timeout)
        self._oauth1 = oauth1
        self._token = oauth2_token
        self._flow = OAuth2Flow(oauth2_app, api_base_url=api_base_url, timeout=timeout,
                                connect_timeout=connect_timeout) if oauth2_app else None
        self._on_token_refresh = on_token_refresh
        self._refresher = refresher
        self._refresh_margin = refresh_margin_secs
        self._refresh_lock = threading.Lock()
        # wait_on_rate_limit=False: a Celery task must not sleep on a rate limit; XError.retry_at says when to retry.
        if oauth1 is not None:
            self._tweepy = tweepy.Client(
                consumer_key=oauth1.consumer_key, consumer_secret=oauth1.consumer_secret,
                access_token=oauth1.access_token, access_token_secret=oauth1.access_token_secret,
                return_type=dict, wait_on_rate_limit=False)
        else:
            # An OAuth 2.0 user token goes where tweepy expects a bearer token, with user_auth=False.
            self._tweepy = tweepy.Client(bearer_token=oauth2_token.access_token, return_type=dict,
                                         wait_on_rate_limit=False)
        self._tweepy.session = XSession(self.endpoints, self.timeouts)
        self._user_auth = oauth1 is not None

    def close(self) -> None:
        self._tweepy.session.close()

    def __enter__(self) -> XClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------------------------

    @property
    def token(self) -> OAuth2Token | None:
        """The current OAuth 2.0 token (after any refresh), or None for OAuth 1.0a."""
        return self._token

    def _auth(self) -> requests.auth.AuthBase:
        if self._oauth1 is not None:
            o = self._oauth1
            return tweepy.OAuth1UserHandler(o.consumer_key, o.consumer_secret, o.access_token,
                                            o.access_token_secret).apply_auth()
        return tweepy.OAuth2BearerHandler(self._tweepy.bearer_token)

    def _request(self, method: str, route: str, params: dict[str, Any] | None = None,
                 json: dict[str, Any] | None = None) -> requests.Response:
        """tweepy's public request: its auth, its session (ours), its exceptions."""
        return self._tweepy.request(method, route, params=params, json=json, user_auth=self._user_auth)

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """A raw request on tweepy's session with tweepy's auth (for what tweepy cannot send, like multipart)."""
        headers = {"User-Agent": self._tweepy.user_agent}
        return self._tweepy.session.request(method, url, headers=headers, auth=self._auth(), **kwargs)

    def _refresh(self, force: bool = False) -> None:
        if not self._can_refresh():
            return
        with self._refresh_lock:
            if not force and not self._token.expires_within(self._refresh_margin):
                return
            token = self._refresher(self._token) if self._refresher else self._flow.refresh(self._token)
            self._token = token
            self._tweepy.bearer_token = token.access_token
            log.info("x.token.refreshed expires_at=%s", token.expires_at.isoformat() if token.expires_at else None)
        if self._on_token_refresh is not None:
            self._on_token_refresh(token)

    def _can_refresh(self) -> bool:
        if self._token is None:
            return False
        return self._refresher is not None or bool(self._flow and self._token.refresh_token)

    def _call(self, fn: Callable[[], T]) -> T:
        """Run one API call: refresh a token about to expire, retry once after a 401 if refreshable, map errors."""
        try:
            self._refresh()
            try:
                return fn()
            except tweepy.HTTPException as exc:
                # Unauthorized from tweepy, or a bare HTTPException with 401 from the multipart upload step.
                if getattr(exc.response, "status_code", None) != 401 or not self._can_refresh():
                    raise
                log.info("x.token.rejected refreshing=true")
                self._refresh(force=True)
                return fn()
        except (tweepy.TweepyException, requests.RequestException, OAuth2Error) as exc:
            raise from_exception(exc, timeout=self.timeouts.read) from exc

    # -- API -----------------------------------------------------------------------------------------------

    def get_me(self) -> XUser:
        body = self._call(lambda: self._tweepy.get_me(user_auth=self._user_auth))
        data = body["data"]
        return XUser(id=str(data["id"]), username=data["username"], name=data.get("name", ""))

    def upload_video(self, source: Source, *, progress: ProgressCallback | None = None,
                     media_category: str = "tweet_video", chunk_size: int = CHUNK_SIZE,
                     max_wait_secs: float = 600.0, min_poll_secs: float = 1.0,
                     retry_delays: tuple[float, ...] = RETRY_DELAYS, wait: bool = True) -> UploadedMedia:
        """Upload an MP4 (path, bytes or binary file) in chunks and wait, bounded, until X has processed it.

        With wait=False it returns right after FINALIZE (state "pending"/"in_progress"/"succeeded"), so the caller
        can record the media id before calling wait_for_media. A chunk or status check that meets a 5xx, timeout
        or connection error is retried after each of `retry_delays`; anything else fails with XError.
        """
        upload = self._upload(chunk_size, max_wait_secs, min_poll_secs, retry_delays)
        start = source.tell() if hasattr(source, "seek") and hasattr(source, "tell") else None

        def run() -> UploadedMedia:
            if start is not None:  # a retry after a token refresh must send the file from its start again
                source.seek(start)
            return upload.run(source, media_category=media_category, progress=progress, wait=wait)

        media = self._call(run)
        log.info("x.media.uploaded media_id=%s bytes=%d state=%s", media.media_id, media.size, media.state)
        return media

    def wait_for_media(self, media_id: str, *, max_wait_secs: float = 600.0, min_poll_secs: float = 1.0,
                       retry_delays: tuple[float, ...] = RETRY_DELAYS) -> UploadedMedia:
        """Poll STATUS until the media is usable; XError if processing failed, took too long, or the id expired."""
        upload = self._upload(CHUNK_SIZE, max_wait_secs, min_poll_secs, retry_delays)
        return self._call(lambda: upload.wait(str(media_id)))

    def _upload(self, chunk_size: int, max_wait_secs: float, min_poll_secs: float,
                retry_delays: tuple[float, ...]) -> ChunkedUpload:
        return ChunkedUpload(self._request, self._send, chunk_size=chunk_size, max_wait_secs=max_wait_secs,
                             min_poll_secs=min_poll_secs, retry_delays=retry_delays)

    def create_post(self, text: str, *, media_ids: Sequence[str] = (), made_with_ai: bool = False) -> XPost:
        """Create a post. Not idempotent: use publishing.x.posting.create_once, which reconciles by media."""
        payload: dict[str, Any] = {"text": text} if text else {}  # X takes media-only posts, not empty text
        if media_ids:
            payload["media"] = {"media_ids": [str(m) for m in media_ids]}
        if made_with_ai:
            payload["made_with_ai"] = True  # tweepy's create_tweet cannot send this field
        # tweepy's create_tweet cannot send made_with_ai; its public request() can (and raises its exceptions).
        body = self._call(lambda: self._tweepy.request("POST", "/2/tweets", json=payload,
                                                       user_auth=self._user_auth).json())
        post = XPost.from_api(body["data"])
        log.info("x.post.created post_id=%s media_ids=%s", post.id, ",".join(map(str, media_ids)))
        return post

    def get_post(self, post_id: str) -> XPost | None:
        """The post with its public metrics, or None if it does not exist (deleted, or never was)."""
        body = self._call(lambda: self._tweepy.get_tweet(post_id, user_auth=self._user_auth, **POST_PARAMS))
        return XPost.from_api(body["data"]) if body.get("data") else None

    def get_posts(self, post_ids: Sequence[str]) -> dict[str, XPost]:
        """Many posts with metrics, 100 per call (one rate-limit unit each); missing ids are simply absent."""
        found: dict[str, XPost] = {}
        ids = [str(i) for i in post_ids]
        for start in range(0, len(ids), 100):
            batch = ids[start:start + 100]
            body = self._call(lambda batch=batch: self._tweepy.get_tweets(batch, user_auth=self._user_auth,
                                                                          **POST_PARAMS))
            found.update((p.id, p) for p in map(XPost.from_api, body.get("data") or []))
        return found

    def get_metrics(self, post_id: str) -> PublicMetrics | None:
        post = self.get_post(post_id)
        return post.metrics if post else None

    def recent_posts(self, user_id: str | None = None, *, max_results: int = 100,
                     since_id: str | None = None) -> list[XPost]:
        """The account's newest posts (one page, newest first), with attachments and metrics."""
        user_id = user_id or self.get_me().id
        params: dict[str, Any] = {"max_results": max(5, min(100, max_results)), **POST_PARAMS}
        if since_id:
            params["since_id"] = since_id
        body = self._call(lambda: self._tweepy.get_users_tweets(user_id, user_auth=self._user_auth, **params))
        return [XPost.from_api(item) for item in body.get("data") or []]

    def find_recent_post(self, *, media_id: str | None = None, media_key: str | None = None,
                         user_id: str | None = None, max_results: int = 100) -> XPost | None:
        """Reconciliation after an uncertain create: the newest recent post carrying this upload's media.

        Only media identifies a post: a media id belongs to one upload, while two clips may share a caption, so
        there is deliberately no match by text. A media key is "<type>_<media id>".
        """
        if not (media_id or media_key):
            raise ValueError("Give the media_id or media_key of the upload to look for.")

        def matches(post: XPost) -> bool:
            if media_key and media_key in post.media_keys:
                return True
            return bool(media_id) and any(key.rpartition("_")[2] == str(media_id) for key in post.media_keys)

        return next((post for post in self.recent_posts(user_id, max_results=max_results) if matches(post)), None)

    def delete_post(self, post_id: str) -> bool:
        body = self._call(lambda: self._tweepy.delete_tweet(post_id, user_auth=self._user_auth))
        return bool(body.get("data", {}).get("deleted"))
