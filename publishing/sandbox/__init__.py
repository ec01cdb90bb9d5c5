"""An X API v2 sandbox (follows X's official OpenAPI spec for the endpoints Clipcast uses). No Django."""

from __future__ import annotations

from publishing.sandbox.config import Config
from publishing.sandbox.server import Sandbox, SandboxServer, make_server, serve

__all__ = ["Config", "Sandbox", "SandboxServer", "make_server", "serve"]
