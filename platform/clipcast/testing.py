"""pytest plugin (loaded with `-p clipcast.testing` before Django starts): test defaults for the environment.

Tests run with production-like settings against PostgreSQL and Redis on 127.0.0.1; anything already set in
the environment wins, so CI or a developer can point them elsewhere (TEST_DATABASE_URL, TEST_BROKER_URL,
TEST_S3_ENDPOINT_URL: the S3-protocol server that .ci/services.sh starts, for the media storage tests).
"""

from __future__ import annotations

import base64
import os

TEST_DEFAULTS = {
    "SECRET_KEY": "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "CLIPCAST_ENCRYPTION_KEYS": base64.urlsafe_b64encode(b"clipcast-test-encryption-key-32b").decode(),
    "DATABASE_URL": os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clipcast"),
    "CELERY_BROKER_URL": os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/15"),
    "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_COOKIES": "0",
    "HF_HUB_OFFLINE": "1",
    "TEST_S3_ENDPOINT_URL": os.environ.get("TEST_S3_ENDPOINT_URL", "http://127.0.0.1:9000"),
}

for _name, _value in TEST_DEFAULTS.items():
    os.environ.setdefault(_name, _value)
