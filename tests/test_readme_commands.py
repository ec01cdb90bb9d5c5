"""The README's command-line examples, typed as written, in an environment without SECRET_KEY or DEBUG: they work
from a checkout, while servers still refuse to start without a SECRET_KEY."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What `make test` or a developer's shell may export; a fresh clone has none of it.
CONFIGURED = ("SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL",
              "CLIPCAST_ENCRYPTION_KEYS", "CACHE_URL", "PYTHONPATH")


def bare_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIGURED and not k.startswith("X_")}
    env.update(CLIPCAST_VAR_DIR=str(tmp_path / "var"), HF_HUB_OFFLINE="1")
    return env


def readme_commands() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("Command-line tools"):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_the_readmes_commands_work_as_written_without_secrets(tmp_path):
    commands = readme_commands()
    assert "manage.py render" in commands and "manage.py x_sandbox" in commands and "manage.py x_post" in commands
    # Run where a user would (files land in the working folder), with a free port instead of the README's 8765.
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "manage.py").symlink_to(ROOT / "manage.py")
    script = "set -e\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\n" + commands.replace("8765", str(free_port()))
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=bare_env(tmp_path), capture_output=True,
                            text=True, timeout=400)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert (tmp_path / "out.mp4").stat().st_size > 0 and (tmp_path / "out.gif").stat().st_size > 0
    assert re.search(r"Posted: http://127\.0\.0\.1:\d+/me/status/\d+", output), output[-4000:]
    assert "SECRET_KEY is required" not in output


@pytest.mark.parametrize("argv", [
    ["python", "-c", "import clipcast.wsgi"],  # what gunicorn imports
    ["python", "-c", "from clipcast.celery import app; app.loader.import_default_modules()"],  # a celery worker
    ["python", "manage.py", "runserver", "--noreload", "127.0.0.1:0"],
    ["python", "manage.py", "migrate"],
])
def test_servers_and_other_commands_still_refuse_without_a_secret_key(tmp_path, argv):
    env = {**bare_env(tmp_path), "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
           "DJANGO_SETTINGS_MODULE": "clipcast.settings"}
    result = subprocess.run([sys.executable, *argv[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "SECRET_KEY is required when DEBUG is off" in result.stderr, result.stderr[-2000:]


def test_development_defaults_apply_only_to_local_tools_in_a_checkout_with_nothing_set(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # manage.py is a script, not in a package
    from manage import LOCAL_TOOLS, local_tool_defaults

    checkout = tmp_path / "checkout"
    (checkout / ".git").mkdir(parents=True)
    env: dict[str, str] = {}
    assert local_tool_defaults(["manage.py", "render"], env, checkout) and env == {"DEBUG": "1"}
    assert {"render", "fetch_model", "x_post", "x_sandbox"} == LOCAL_TOOLS
    for argv, environ, root in [
        (["manage.py", "runserver"], {}, checkout),           # a server
        (["manage.py", "migrate"], {}, checkout),             # touches the real database
        (["manage.py", "render"], {}, tmp_path),              # not a checkout (an installed deployment)
        (["manage.py", "render"], {"SECRET_KEY": "s"}, checkout),  # configured: left alone
        (["manage.py", "render"], {"DEBUG": "0"}, checkout),  # DEBUG off on purpose: left alone
    ]:
        before = dict(environ)
        assert not local_tool_defaults(argv, environ, root) and environ == before


def test_every_tool_the_readme_names_in_the_venv_is_installed_there():
    # A fresh shell has no activated venv: a bare `hf ...` is "command not found", so the README writes the venv path.
    readme = (ROOT / "README.md").read_text()
    tools = set(re.findall(r"\.venv/bin/([\w.-]+)", readme))
    assert "hf" in tools and "python" in tools
    assert sorted(t for t in tools if not (ROOT / ".venv" / "bin" / t).exists()) == []
    assert not re.search(r"`hf auth", readme), "write `.venv/bin/hf auth login`"
