"""MEDIA_STORAGE and its variables, read the way a server process reads them at start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEDIA_VARIABLES = ("MEDIA_STORAGE", "MEDIA_BUCKET", "MEDIA_S3_ENDPOINT_URL", "MEDIA_S3_REGION",
                   "MEDIA_S3_ACCESS_KEY_ID", "MEDIA_S3_SECRET_ACCESS_KEY", "MEDIA_S3_SECRET_ACCESS_KEY_FILE",
                   "MEDIA_URL_EXPIRY", "MEDIA_ACCEL")
SHOW = ("import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps({'storage': settings.STORAGES['default'], 'expiry': settings.MEDIA_URL_EXPIRY}))")


def start_settings(**env: str) -> subprocess.CompletedProcess:
    child = {k: v for k, v in os.environ.items() if k not in MEDIA_VARIABLES}
    child.update(DJANGO_SETTINGS_MODULE="clipcast.settings", PYTHONPATH=f"{ROOT / 'platform'}{os.pathsep}{ROOT}", **env)
    return subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env=child, capture_output=True, text=True,
                          timeout=120)


def test_local_storage_is_the_default():
    result = start_settings()
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown == {"storage": {"BACKEND": "django.core.files.storage.FileSystemStorage"}, "expiry": 3600}


def test_s3_storage_is_configured_from_the_environment_with_the_secret_from_a_file(tmp_path):
    secret = tmp_path / "s3-secret"
    secret.write_text("the-secret\n")
    result = start_settings(MEDIA_STORAGE="s3", MEDIA_BUCKET="clips", MEDIA_S3_ENDPOINT_URL="http://10.9.0.2:9000",
                            MEDIA_S3_ACCESS_KEY_ID="the-key", MEDIA_S3_SECRET_ACCESS_KEY_FILE=str(secret),
                            MEDIA_URL_EXPIRY="600")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    options = shown["storage"]["OPTIONS"]
    assert shown["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
        "clips", "http://10.9.0.2:9000", "us-east-1")
    assert (options["access_key"], options["secret_key"]) == ("the-key", "the-secret")
    assert (options["querystring_auth"], options["querystring_expire"], options["default_acl"]) == (True, 600, None)


def test_s3_storage_without_a_bucket_fails_loudly():
    result = start_settings(MEDIA_STORAGE="s3")
    assert result.returncode != 0
    assert "MEDIA_STORAGE=s3 needs MEDIA_BUCKET" in result.stderr


def test_an_unknown_storage_or_a_proxy_hand_off_for_a_bucket_fails_loudly():
    unknown = start_settings(MEDIA_STORAGE="ftp")
    assert unknown.returncode != 0 and "MEDIA_STORAGE='ftp' is not supported: use local or s3" in unknown.stderr
    accel = start_settings(MEDIA_STORAGE="s3", MEDIA_BUCKET="clips", MEDIA_ACCEL="x-accel-redirect")
    assert accel.returncode != 0 and "MEDIA_ACCEL applies to local media only" in accel.stderr
