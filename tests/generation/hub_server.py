"""A Hugging Face hub on 127.0.0.1 that serves one folder as one repository, speaking the part of the hub's HTTP API
that `snapshot_download` and `hf_hub_download` use (repo info, tree listing, HEAD and GET of `resolve/`). Point a
process at it with HF_ENDPOINT. It also counts the files it served, so a test can tell what was downloaded."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

COMMIT = "fedcba9876543210fedcba9876543210fedcba98"


class HubServer:
    def __init__(self, repos: dict[str, Path]) -> None:
        self.repos = repos
        self.served: Counter[str] = Counter()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> HubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def files(self, repo: str) -> dict[str, Path]:
        root = self.repos[repo]
        return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file()}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_GET(self) -> None:
                self._answer(body=True)

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def _send(self, status: int, data: bytes, headers: dict[str, str], body: bool) -> None:
                self.send_response(status)
                for name, value in {"Content-Length": str(len(data)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def _json(self, value: object, body: bool) -> None:
                self._send(200, json.dumps(value).encode(), {"Content-Type": "application/json"}, body)

            def _answer(self, body: bool) -> None:
                path = unquote(urlsplit(self.path).path)
                for repo in hub.repos:
                    files = hub.files(repo)
                    if path in (f"/api/models/{repo}/revision/main", f"/api/models/{repo}"):
                        return self._json({"id": repo, "sha": COMMIT, "siblings": [{"rfilename": f} for f in files]},
                                          body)
                    if path.startswith(f"/api/models/{repo}/tree/"):
                        return self._json([{"type": "file", "path": name, "size": p.stat().st_size,
                                            "oid": hashlib.sha256(p.read_bytes()).hexdigest()[:40]}
                                           for name, p in files.items()], body)
                    for revision in ("main", COMMIT):
                        prefix = f"/{repo}/resolve/{revision}/"
                        if path.startswith(prefix) and path[len(prefix):] in files:
                            name = path[len(prefix):]
                            data = files[name].read_bytes()
                            if body:
                                hub.served[name] += 1
                            return self._send(200, data, {"X-Repo-Commit": COMMIT,
                                                          "ETag": f'"{hashlib.sha256(data).hexdigest()}"'}, body)
                self._send(404, b'{"error": "Repository not found"}',
                           {"Content-Type": "application/json", "X-Error-Code": "RepoNotFound"}, body)

        return Handler
