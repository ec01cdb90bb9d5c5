"""pytest plugin (loaded with `-p clipcast.testing` before Django starts): test defaults for the environment.

Tests run with production-like settings against PostgreSQL and Redis on 127.0.0.1; anything already set in
the environment wins, so CI or a developer can point them elsewhere (TEST_DATABASE_URL, TEST_BROKER_URL,
TEST_CACHE_URL; TEST_S3_ENDPOINT_URL: the S3-protocol server that .ci/services.sh starts, for the media
storage tests).
"""

from __future__ import annotations

import base64
import os

TEST_DEFAULTS = {
    "SECRET_KEY": "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "CLIPCAST_ENCRYPTION_KEYS": base64.urlsafe_b64encode(b"clipcast-test-encryption-key-32b").decode(),
    "DATABASE_URL": os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clipcast"),
    "CELERY_BROKER_URL": os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/15"),
    # A separate Redis database from the broker's: tests clear the cache, which empties its whole database.
    "CACHE_URL": os.environ.get("TEST_CACHE_URL", "redis://127.0.0.1:6379/14"),
    "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_COOKIES": "0",
    "HF_HUB_OFFLINE": "1",
    "TEST_S3_ENDPOINT_URL": os.environ.get("TEST_S3_ENDPOINT_URL", "http://127.0.0.1:9000"),
}

for _name, _value in TEST_DEFAULTS.items():
    os.environ.setdefault(_name, _value)

# PBKDF2 at production strength costs ~0.3 s per user a factory makes; tests check who may do what, not the hash.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_configure(config: object) -> None:
    """Before any fixture makes a user (session-scoped ones included), hash test passwords the fast way."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS
