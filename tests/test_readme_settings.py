"""The README's settings table lists every environment variable the settings read, and nothing they don't."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "platform" / "clipcast" / "settings.py"


def variables_read_by_settings() -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if called.startswith("env_") or called in {"get", "getenv"}:
            value = node.args[0].value
            if isinstance(value, str) and re.fullmatch(r"[A-Z][A-Z0-9_]+", value):
                names.add(value)
    return names


def variables_in_readme_table() -> set[str]:
    names = set()
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_every_variable_the_settings_read_has_a_row_in_the_readme():
    missing = variables_read_by_settings() - variables_in_readme_table()
    assert missing == set(), f"add these to the README's settings table: {sorted(missing)}"


def test_the_readme_table_names_only_variables_the_settings_read():
    # `NAME_FILE` is read by env_secret for each secret NAME; HF_HUB_OFFLINE is set, not read, by the settings.
    read = variables_read_by_settings()
    listed = {name for name in variables_in_readme_table() if name.removesuffix("_FILE") not in read}
    assert listed == set(), f"the README lists variables nothing reads: {sorted(listed)}"


def test_the_reader_finds_variables_in_every_form_the_settings_use():
    found = variables_read_by_settings()
    assert {"DEBUG", "SECRET_KEY", "EMAIL_BACKEND", "X_MEDIA_MAX_WAIT", "API_THROTTLE_ANON"} <= found
