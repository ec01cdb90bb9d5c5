"""`manage.py check --deploy` is clean with production environment variables set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "SECRET_KEY": "prod-like-" + "k" * 60,
    "ALLOWED_HOSTS": "clipcast.example.com",
    "CLIPCAST_ENCRYPTION_KEYS": "dGhpcy1pcy1hLXRlc3Qta2V5LTMyLWJ5dGVzLWxvbmc=",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
}


def run_check(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    # Only what production would have: test-only switches (some set by other fixtures) stay out.
    test_only = {"DEBUG", "SECURE_SSL_REDIRECT", "SECURE_COOKIES", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_settings():
    result = run_check(PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_fails_loudly_in_production():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    env["SECRET_KEY"] = ""
    result = run_check(env)
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr
