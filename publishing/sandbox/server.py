"""HTTP front of the X sandbox: routing, authentication, scopes, fault injection, and the server itself."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from publishing.sandbox import api_media, api_posts, control, oauth1, oauth2
from publishing.sandbox.config import Audience, Config
from publishing.sandbox.store import Store
from publishing.sandbox.web import ApiError, Request, Response

log = logging.getLogger(__name__)

READ = frozenset({"tweet.read", "users.read"})
WRITE = frozenset({"tweet.read", "tweet.write", "users.read"})
MEDIA = frozenset({"media.write"})
Handler = Callable[..., Response]
MAX_BODY_BYTES = 16 * 1024 * 1024  # a 5 MiB media segment plus multipart framing fits comfortably


@dataclass(frozen=True)
class ApiCall:
    at: float
    user_id: str
    method: str
    path: str
    status: int


class Sandbox:
    """The application: maps a Request to a Response. Independent of the HTTP server for clarity."""

    def __init__(self, db_path: str | Path, config: Config | None = None) -> None:
        self.store = Store(db_path)
        self.config = config or Config()
        self.audience = Audience()
        # The latest X API calls (/2/...), for tests that count requests per minute (no retry storms).
        self.api_calls: deque[ApiCall] = deque(maxlen=200_000)
        s, c, a = self.store, self.config, self.audience
        # (method, path regex, scopes needed or None for unauthenticated, handler taking (request, *groups))
        self.routes: list[tuple[str, re.Pattern[str], frozenset[str] | None, Handler]] = [
            ("POST", re.compile(r"/2/media/upload/initialize"), MEDIA, lambda r: api_media.initialize(s, r, c)),
            ("POST", re.compile(r"/2/media/upload/([^/]+)/append"), MEDIA, lambda r, i: api_media.append(s, r, i)),
            ("POST", re.compile(r"/2/media/upload/([^/]+)/finalize"), MEDIA, self._finalize),
            ("GET", re.compile(r"/2/media/upload"), MEDIA, lambda r: api_media.status(s, r, c)),
            ("POST", re.compile(r"/2/tweets"), WRITE, lambda r: api_posts.create(s, r, c)),
            ("GET", re.compile(r"/2/tweets"), READ, lambda r: api_posts.get_posts(s, r, a)),
            ("GET", re.compile(r"/2/tweets/([^/]+)"), READ, lambda r, i: api_posts.get_post(s, r, i, a)),
            ("DELETE", re.compile(r"/2/tweets/([^/]+)"), WRITE, lambda r, i: api_posts.delete(s, r, i)),
            ("GET", re.compile(r"/2/users/me"), READ, lambda r: api_posts.me(s, r)),
            ("GET", re.compile(r"/2/users/([^/]+)/tweets"), READ, self._user_posts),
            ("GET", re.compile(r"/(?:i|2)/oauth2/authorize"), None, lambda r: oauth2.authorize(s, r)),
            ("POST", re.compile(r"/2/oauth2/token"), None,
             lambda r: oauth2.token_endpoint(s, r, c.access_token_ttl)),
            ("POST", re.compile(r"/_sandbox/apps"), None, lambda r: control.create_app(s, r)),
            ("POST", re.compile(r"/_sandbox/accounts"), None, lambda r: control.create_account(s, r, c)),
            ("GET", re.compile(r"/_sandbox/accounts"), None, lambda r: control.list_accounts(s)),
            ("POST", re.compile(r"/_sandbox/faults"), None, lambda r: control.set_fault(s, r)),
            ("DELETE", re.compile(r"/_sandbox/faults"), None, lambda r: control.clear_faults(s, r)),
            ("GET", re.compile(r"/_sandbox/posts"), None, lambda r: control.list_posts(s, r)),
            ("GET", re.compile(r"/_sandbox/config"), None, lambda r: control.update_config(r, c)),
            ("POST", re.compile(r"/_sandbox/config"), None, lambda r: control.update_config(r, c)),
            ("GET", re.compile(r"/_sandbox/audience"), None, lambda r: control.update_audience(r, a)),
            ("POST", re.compile(r"/_sandbox/audience"), None, lambda r: control.update_audience(r, a)),
            ("DELETE", re.compile(r"/_sandbox/audience"), None, lambda r: control.update_audience(r, a)),
            ("GET", re.compile(r"/_sandbox/media/([0-9]+)"), None, lambda r, i: control.media_bytes(s, r, i)),
            ("GET", re.compile(r"/([A-Za-z0-9_]{1,15})/status/([0-9]+)"), None,
             lambda r, u, i: control.post_page(s, u, i)),
            ("GET", re.compile(r"/"), None, lambda r: control.index_page(s)),
        ]

    def _finalize(self, request: Request, media_id: str) -> Response:
        fail = bool(control.take_faults(self.store, request.user_id or "", request.path, {"processing_failure"},
                                        request.method))
        return api_media.finalize(self.store, request, media_id, self.config, fail)

    def _user_posts(self, request: Request, user_id: str) -> Response:
        stale = control.take_faults(self.store, request.user_id or "", request.path, {"stale_timeline"},
                                    request.method)
        return api_posts.user_posts(self.store, request, user_id, extra_lag=max((f["delay"] for f in stale),
                                                                               default=0.0), audience=self.audience)

    def handle(self, request: Request) -> Response:
        try:
            response = self._dispatch(request)
        except ApiError as exc:
            response = exc.response
        if request.path.startswith("/2/"):
            self.api_calls.append(ApiCall(time.time(), request.user_id or "", request.method, request.path,
                                          response.status))
        return response

    def _dispatch(self, request: Request) -> Response:
        allowed = []
        for method, pattern, scopes, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if not match:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            if scopes is None:
                return handler(request, *match.groups())
            self._authenticate(request, scopes)
            faults = control.take_faults(self.store, request.user_id or "", request.path,
                                         {"delay", "rate_limit", "server_error", "unauthorized"}, request.method)
            injected = self._inject_faults([f for f in faults if not f["lands"]])
            if injected is not None:
                return injected
            response = handler(request, *match.groups())
            # A fault that "lands" answers in place of a call that took effect (X created the post, then timed
            # out or failed before answering).
            return self._inject_faults([f for f in faults if f["lands"]]) or response
        if allowed:
            raise ApiError.problem(405, "Method Not Allowed", f"Use {' or '.join(allowed)} for {request.path}.")
        raise ApiError.problem(404, "Not Found Error", f"No such endpoint: {request.method} {request.path}.")

    def _authenticate(self, request: Request, scopes: frozenset[str]) -> None:
        header = request.headers.get("authorization", "")
        # Own transaction: a used nonce must stay used even when the request then fails.
        with self.store.tx() as db:
            if header.startswith("OAuth "):
                request.user_id = oauth1.authenticate(db, request)
            elif header.startswith("Bearer "):
                request.user_id, request.scopes = oauth2.authenticate(db, header[len("Bearer "):].strip())
            else:
                raise ApiError.unauthorized("Authentication required: OAuth 1.0a user context or OAuth 2.0 user "
                                            "token.")
        if request.scopes is not None and not scopes <= request.scopes:
            missing = ", ".join(sorted(scopes - request.scopes))
            raise ApiError.problem(403, "Forbidden", f"The access token lacks the scope(s): {missing}.",
                                   "https://api.x.com/2/problems/client-forbidden", reason="missing-scope")

    def _inject_faults(self, faults: list) -> Response | None:
        for fault in faults:
            if fault["kind"] == "delay":
                time.sleep(fault["delay"])
        for fault in faults:
            if fault["kind"] == "unauthorized":
                return ApiError.unauthorized("Unauthorized (injected by the sandbox).").response
            if fault["kind"] == "rate_limit":
                headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0"}
                if fault["reset_header"]:
                    headers["x-rate-limit-reset"] = str(int(time.time()) + fault["reset_in"])
                return ApiError.problem(429, "Too Many Requests", "Too Many Requests", headers=headers).response
            if fault["kind"] == "server_error":
                status = fault["status"]
                title = "Service Unavailable" if status == 503 else "Internal Server Error"
                return ApiError.problem(status, title, "X is temporarily unavailable (injected by the sandbox).",
                                        "https://api.x.com/2/problems/internal-error").response
        return None


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, keep-alive clients wait ~40 ms per response.
    disable_nagle_algorithm = True
    server_version = "XSandbox/1.0"
    sandbox: Sandbox  # set on the subclass made by make_server

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        length_header = self.headers.get("Content-Length") or "0"
        length = int(length_header) if length_header.isdigit() else -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            self._reply(ApiError.problem(413, "Payload Too Large", f"Send 0 to {MAX_BODY_BYTES} bytes with a "
                                         "valid Content-Length.").response)
            return
        body = self.rfile.read(length) if length else b""
        request = Request(method=self.command, path=path, query_string=query,
                          headers={k.lower(): v for k, v in self.headers.items()}, body=body)
        try:
            response = self.sandbox.handle(request)
        except Exception:
            log.exception("x_sandbox.error path=%s", path)
            response = ApiError.problem(500, "Internal Server Error", "The sandbox failed; see its log.").response
        self._reply(response)

    def _reply(self, response: Response) -> None:
        payload = response.encode()
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (for example a timeout test); nothing to tell it

    do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = _handle

    def log_message(self, format: str, *args: object) -> None:
        log.debug("x_sandbox.request %s", format % args)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, sandbox: Sandbox) -> None:
        handler = type("SandboxRequestHandler", (_RequestHandler,), {"sandbox": sandbox})
        super().__init__((host, port), handler)
        self.sandbox = sandbox

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="x-sandbox",
                                  daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.sandbox.store.close()


def make_server(host: str = "127.0.0.1", port: int = 0, db_path: str | Path = ":memory:",
                config: Config | None = None) -> SandboxServer:
    """A sandbox bound to host:port (port 0 picks a free one); call start_in_thread() or serve_forever()."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("The X sandbox has no real security: bind it to 127.0.0.1 only.")
    return SandboxServer(host, port, Sandbox(db_path, config))


def serve(host: str = "127.0.0.1", port: int = 8765, db_path: str | Path = "var/x_sandbox.sqlite3",
          config: Config | None = None) -> None:
    """Run the sandbox in the foreground until interrupted."""
    server = make_server(host, port, db_path, config)
    log.info("x_sandbox.listening url=%s db=%s", server.url, db_path)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.sandbox.store.close()
