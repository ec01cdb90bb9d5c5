"""The training journal: one JSON line per event in `workdir/log.jsonl`, echoed above the progress bar."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tqdm import tqdm


def log(workdir: Path, event: str, **fields: object) -> None:
    line = json.dumps({"t": round(time.time(), 1), "event": event, **fields})
    tqdm.write(line)
    with (workdir / "log.jsonl").open("a") as f:
        f.write(line + "\n")
