"""Lay a model folder out in a Hugging Face cache exactly as the hub client writes one, without the network:
`models--Org--Name/refs/main` holds the commit, `snapshots/<commit>/<file>` are relative symlinks to
`blobs/<sha256>`."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def put_in_hub_cache(folder: Path, cache_dir: Path, repo_id: str, *, commit: str = COMMIT,
                     skip: tuple[str, ...] = ()) -> Path:
    """Copy `folder` into `cache_dir` as `repo_id` at `commit` (leaving out files whose relative path starts with
    one of `skip`, like an interrupted download); returns the snapshot folder."""
    repo = cache_dir / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    for source in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = source.relative_to(folder)
        if str(relative).startswith(skip):
            continue
        data = source.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snapshot / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs" / "main").write_text(commit)
    return snapshot
