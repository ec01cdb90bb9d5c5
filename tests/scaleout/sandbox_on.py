"""The X sandbox on the scale-out test's private bridge: python -m tests.scaleout.sandbox_on ADDRESS PORT DB.

`make_server` refuses any address but loopback, on purpose; here the address is the host side of a bridge that
exists only for the test's lifetime and only its namespaces can reach, so the server is built directly.
"""

from __future__ import annotations

import ipaddress
import logging
import sys

from publishing.sandbox.config import Config
from publishing.sandbox.server import Sandbox, SandboxServer


def main(address: str, port: str, db: str) -> None:
    if not ipaddress.ip_address(address).is_private:
        raise SystemExit(f"{address} is not a private address: the sandbox has no real security.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = SandboxServer(address, int(port), Sandbox(db, Config(processing_secs=0.2)))
    print(f"X sandbox on {server.url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    finally:
        server.server_close()
        server.sandbox.store.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
