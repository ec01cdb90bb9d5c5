"""Models named by Hugging Face hub id (`Lightricks/LTX-Video`, optionally `@revision`), kept in the hub cache.

Only `fetch` ever reaches the network; `cached_snapshot` reads the cache alone (renders never download), in the
layout the hub client writes: `models--Org--Name/refs/<revision>` naming a commit, `snapshots/<commit>/...` whose
files link into `blobs/`. The cache folder is looked up at call time, with the hub client's rules.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from generation.engine.errors import EngineError

# Hub ids are `owner/name`: letters, digits, `-`, `_`, `.`; the name may not start with `.` or `-`.
HUB_ID = re.compile(r"(?P<repo>[A-Za-z0-9][\w.-]*/[A-Za-z0-9_][\w.-]*)(?:@(?P<revision>[\w./-]+))?")
# A component folder's weights without a variant (`model.safetensors`, `model-00001-of-00002.safetensors`) and
# their shard index; variants (`model.fp16.safetensors`) would double the download for nothing.
PLAIN_WEIGHTS = re.compile(r"[^./]+(?:-\d{5}-of-\d{5})?\.(?:safetensors|bin)(?:\.index\.json)?")
CONFIG_SUFFIXES = (".json", ".txt", ".model", ".tiktoken")
TRUTHY = {"1", "on", "yes", "true"}


class FetchFailed(EngineError):
    """A model could not be downloaded: offline, unknown or gated repository, network error."""


@dataclass(frozen=True)
class HubModel:
    repo_id: str
    revision: str | None = None

    @classmethod
    def parse(cls, text: str) -> HubModel | None:
        match = HUB_ID.fullmatch(text.strip())
        if match is None or ".." in match["repo"]:
            return None
        return cls(match["repo"], match["revision"])

    def __str__(self) -> str:
        return self.repo_id + (f"@{self.revision}" if self.revision else "")


def hub_cache_dir() -> Path:
    """The hub client's cache folder, from the environment as it is now (HF_HUB_CACHE, then HF_HOME/hub)."""
    from huggingface_hub import constants

    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(name):
            return Path(os.environ[name]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    return Path(constants.HF_HUB_CACHE)


def offline() -> bool:
    from huggingface_hub import constants

    return constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in TRUTHY


def cached_snapshot(model: HubModel, cache_dir: Path | None = None) -> Path | None:
    """The model's snapshot folder in the cache, or None when it was never fetched. Never reaches the network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        # Only model_index.json: the hub client would call a snapshot incomplete for lacking files `fetch` leaves
        # on the hub on purpose (root checkpoints); the registry checks each component itself.
        folder = snapshot_download(
            model.repo_id, revision=model.revision, cache_dir=cache_dir or hub_cache_dir(), local_files_only=True,
            allow_patterns=["model_index.json"],
        )
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    folder = Path(folder)
    return folder if (folder / "model_index.json").is_file() else None


def files_to_fetch(repo_files: Iterable[str], model_index: dict) -> list[str]:
    """What a pipeline needs of a repository: model_index.json, clipcast.json, and each listed component's
    configs and plain weights (safetensors where it has them). Checkpoints at the root are left on the hub."""
    files = list(repo_files)
    wanted = [name for name in ("model_index.json", "clipcast.json") if name in files]
    components = [name for name, spec in model_index.items()
                  if not name.startswith("_") and isinstance(spec, list | tuple) and None not in spec]
    for component in components:
        inside = [f for f in files if f.startswith(component + "/") and "/" not in f[len(component) + 1:]]
        weights = [f for f in inside if PLAIN_WEIGHTS.fullmatch(f.rsplit("/", 1)[1])]
        if any(f.endswith((".safetensors", ".safetensors.index.json")) for f in weights):
            weights = [f for f in weights if ".safetensors" in f]
        configs = [f for f in inside if f.endswith(CONFIG_SUFFIXES) and f not in weights and ".index." not in f]
        wanted += configs + weights
    return wanted


def fetch(model: HubModel, cache_dir: Path | None = None) -> Path:
    """Download what the pipeline needs into the hub cache (progress bars on stderr) and return its folder."""
    if offline():
        raise FetchFailed(
            f"Cannot download {model}: HF_HUB_OFFLINE is set, so this process may not reach the Hugging Face hub. "
            "Run the command again without HF_HUB_OFFLINE on a machine with network access."
        )
    from huggingface_hub import HfApi, hf_hub_download, snapshot_download
    from huggingface_hub import errors as hub_errors

    cache = cache_dir or hub_cache_dir()
    try:
        files = HfApi().list_repo_files(model.repo_id, revision=model.revision)
        if "model_index.json" not in files:
            raise FetchFailed(f"{model} has no model_index.json: it is not a diffusers pipeline repository. "
                              "Use a repository that `DiffusionPipeline.from_pretrained` can load.")
        index_file = hf_hub_download(model.repo_id, "model_index.json", revision=model.revision, cache_dir=cache)
        index = json.loads(Path(index_file).read_text())
        folder = snapshot_download(
            model.repo_id, revision=model.revision, cache_dir=cache, allow_patterns=files_to_fetch(files, index)
        )
    except hub_errors.GatedRepoError as exc:
        raise FetchFailed(f"{model} is gated: accept its licence on huggingface.co, then log in with "
                          "`hf auth login` (or set HF_TOKEN) and run the command again.") from exc
    except hub_errors.RepositoryNotFoundError as exc:
        raise FetchFailed(f"{model} does not exist on the Hugging Face hub (or is private): check the id.") from exc
    except hub_errors.RevisionNotFoundError as exc:
        raise FetchFailed(f"{model}: revision {model.revision!r} does not exist in the repository.") from exc
    except (hub_errors.HfHubHTTPError, hub_errors.LocalEntryNotFoundError, OSError, ValueError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise FetchFailed(f"Downloading {model} failed: {detail}. Check the network and run the command again "
                          "(finished files are kept).") from exc
    except Exception as exc:  # the HTTP client's own connection errors (httpx) share no base with the above
        # by package, whatever its major version's suffix (huggingface_hub 2 uses httpx2 and httpcore2)
        if type(exc).__module__.split(".")[0].rstrip("0123456789") not in {"httpx", "httpcore", "requests", "urllib"}:
            raise
        raise FetchFailed(f"Downloading {model} failed: cannot reach the Hugging Face hub ({type(exc).__name__}: "
                          f"{exc}). Check the network and run the command again.") from exc
    return Path(folder)

