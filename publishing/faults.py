"""Crash points for the reliability tests: SIGKILL this process at a named step of publishing, once per post.

Inert unless CLIPCAST_CRASH_POINTS (comma-separated names, or `spread`: one point per post, in turn by post
id) and CLIPCAST_CRASH_DIR (where the once-markers go) are both set in the worker's environment. Production never
sets them.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

POINTS = ("after_upload", "after_processing", "after_create", "before_posted_commit")


def crash_point(name: str, post_id: int) -> None:
    points = os.environ.get("CLIPCAST_CRASH_POINTS")
    folder = os.environ.get("CLIPCAST_CRASH_DIR")
    if not points or not folder:
        return
    chosen = [POINTS[post_id % len(POINTS)]] if points == "spread" else points.split(",")
    if name not in chosen:
        return
    marker = Path(folder) / f"{name}-{post_id}"
    try:
        marker.touch(exist_ok=False)  # one crash per post and point: the retry must be allowed through
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)
