from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from core import crypto
from publishing.models import XAccount
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


def stored_token(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM publishing_xaccount WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_rotation_re_encrypts_with_the_new_key_and_the_old_key_can_then_go(settings):
    old_key = settings.CLIPCAST_ENCRYPTION_KEYS[0]
    account = XAccount.objects.create(workspace=WorkspaceFactory(), handle="brand", access_token="tok-123")
    new_key = Fernet.generate_key().decode()
    settings.CLIPCAST_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys")
    settings.CLIPCAST_ENCRYPTION_KEYS = [new_key]
    assert Fernet(new_key.encode()).decrypt(stored_token(account.pk).encode()) == b"tok-123"
    assert XAccount.objects.get(pk=account.pk).access_token == "tok-123"
    settings.CLIPCAST_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(crypto.SecretDecryptionError):
        XAccount.objects.get(pk=account.pk)
