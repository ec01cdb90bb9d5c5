"""python -m publishing.sandbox --port 8765 --db var/x_sandbox.sqlite3"""

from __future__ import annotations

import argparse
import logging

from publishing.sandbox.config import Config
from publishing.sandbox.server import make_server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m publishing.sandbox", description="X API v2 sandbox server")
    parser.add_argument("--host", default="127.0.0.1", help="only 127.0.0.1/localhost are accepted")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", default="var/x_sandbox.sqlite3", help="SQLite file holding the sandbox state")
    parser.add_argument("--processing-secs", type=float, default=Config.processing_secs,
                        help="how long uploaded video stays in processing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        server = make_server(args.host, args.port, args.db, Config(processing_secs=args.processing_secs))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"Cannot start the X sandbox on {args.host}:{args.port}: {exc}") from exc
    print(f"X sandbox on {server.url} (state in {args.db}; page at {server.url}/)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.sandbox.store.close()


if __name__ == "__main__":
    main()
