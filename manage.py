#!/usr/bin/env python
"""Django's command-line utility for Clipcast."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# platform/ is a source root, never a package: a package named "platform" would shadow the stdlib module.
sys.path.insert(0, str(ROOT / "platform"))

# Command-line tools, not servers: in a checkout with no secrets configured they run with the development
# defaults (DEBUG=1, as `make run`), so the README's examples work on a fresh clone. Servers never get this:
# gunicorn (clipcast.wsgi) and celery (clipcast.celery) do not come through manage.py, runserver is not listed,
# and a deployment without a .git folder, or with DEBUG or a SECRET_KEY set, keeps its own settings.
LOCAL_TOOLS = frozenset({"render", "fetch_model", "x_post", "x_sandbox"})


def local_tool_defaults(argv: list[str], environ: dict, root: Path = ROOT) -> bool:
    """Set DEBUG=1 for a local tool run from a checkout without settings; True when it did."""
    command = argv[1] if len(argv) > 1 else ""
    if command not in LOCAL_TOOLS or not (root / ".git").exists():
        return False
    if any(name in environ for name in ("DEBUG", "SECRET_KEY", "SECRET_KEY_FILE")):
        return False
    environ["DEBUG"] = "1"
    return True


def main() -> None:
    if local_tool_defaults(sys.argv, os.environ):
        print(f"manage.py {sys.argv[1]}: no SECRET_KEY or DEBUG set in this checkout, using the development "
              "settings (DEBUG=1).", file=sys.stderr)
    if sys.argv[1:2] == ["fetch_model"]:
        # The one command that downloads models: clipcast.settings makes every process offline (HF_HUB_OFFLINE=1)
        # unless the environment says otherwise, so say otherwise here; an HF_HUB_OFFLINE=1 the user set still wins.
        os.environ.setdefault("HF_HUB_OFFLINE", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clipcast.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
