"""Guards on the source layout: platform/ is a source root, no first-party package shadows the stdlib, and
the service installs every first-party package but training/ (and tests/, bench/)."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def first_party_packages() -> set[str]:
    names = set()
    for source_root in (ROOT, ROOT / "platform"):
        for child in source_root.iterdir():
            if child.is_dir() and (child / "__init__.py").exists():
                names.add(child.name)
    return names


def test_platform_is_a_source_root_not_a_package():
    assert (ROOT / "platform").is_dir()
    assert not (ROOT / "platform" / "__init__.py").exists(), "platform/__init__.py would shadow the stdlib module"


def test_no_first_party_package_is_named_like_a_stdlib_module():
    packages = first_party_packages()
    assert {"clipcast", "accounts", "campaigns", "dashboard", "generation", "publishing"} <= packages
    clashes = sorted(packages & set(sys.stdlib_module_names))
    assert clashes == [], f"these packages shadow standard-library modules: {clashes}"


# Model training is a tool beside the service, importable from a checkout but never installed with it.
NOT_INSTALLED = {"training", "tests", "bench"}


def test_the_package_build_installs_every_first_party_package_except_training_tests_and_bench():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    find = config["tool"]["setuptools"]["packages"]["find"]
    assert "platform" in find["where"]
    included = {pattern.rstrip("*") for pattern in find["include"]}
    assert "training" in first_party_packages()
    assert first_party_packages() - NOT_INSTALLED <= included
    assert not included & NOT_INSTALLED, f"never installed with the service: {sorted(included & NOT_INSTALLED)}"


def test_stdlib_platform_and_uuid_are_the_real_ones():
    import platform
    import uuid

    assert platform.__file__ and "site-packages" not in platform.__file__
    assert Path(platform.__file__).parent != ROOT / "platform"
    assert callable(platform.python_version)
    assert uuid.uuid4().version == 4


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_nothing_the_service_installs_imports_training():
    served = [ROOT / "platform"] + [ROOT / name for name in sorted(first_party_packages() - NOT_INSTALLED)]
    offenders = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for source in served
        if source.is_dir()
        for path in source.rglob("*.py")
        for module in imported_modules(path)
        if module == "training" or module.startswith("training.")
    )
    assert offenders == [], f"the service must not import model training (install it without training/): {offenders}"
