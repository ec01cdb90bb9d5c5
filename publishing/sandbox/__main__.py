"""python -m publishing.sandbox --port 8765 --db var/x_sandbox.sqlite3"""

from __future__ import annotations

import argparse
import logging

from publishing.sandbox.config import Config
from publishing.sandbox.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m publishing.sandbox", description="X API v2 sandbox server")
    parser.add_argument("--host", default="127.0.0.1", help="only 127.0.0.1/localhost are accepted")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", default="var/x_sandbox.sqlite3", help="SQLite file holding the sandbox state")
    parser.add_argument("--processing-secs", type=float, default=Config.processing_secs,
                        help="how long uploaded video stays in processing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    print(f"X sandbox on http://{args.host}:{args.port} (state in {args.db})", flush=True)
    serve(args.host, args.port, args.db, Config(processing_secs=args.processing_secs))


if __name__ == "__main__":
    main()
