"""Encryption at rest for secrets such as X tokens (MultiFernet: newest key encrypts, every key decrypts)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


def _keys() -> list[bytes]:
    keys = [k.encode() for k in settings.CLIPCAST_ENCRYPTION_KEYS]
    if not keys:
        if not settings.DEBUG:
            raise ImproperlyConfigured("CLIPCAST_ENCRYPTION_KEYS is not set.")
        # Development only: a key derived from SECRET_KEY so `make run` needs no setup.
        keys = [base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest())]
    return keys


def fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(k) for k in _keys()])
    except ValueError as exc:
        raise ImproperlyConfigured(f"CLIPCAST_ENCRYPTION_KEYS holds an invalid Fernet key: {exc}") from exc


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError("Stored secret cannot be decrypted with the configured keys.") from exc


def rotate(token: str) -> str:
    """Re-encrypt with the newest key (for `manage.py rotate_encryption_keys`)."""
    return fernet().rotate(token.encode()).decode() if token else ""
