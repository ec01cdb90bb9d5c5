from __future__ import annotations

import pytest
from django.db import connection

from publishing.models import XAccount
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_tokens_are_encrypted_in_the_database_and_decrypted_on_load():
    account = XAccount.objects.create(workspace=WorkspaceFactory(), handle="brand", access_token="tok-abc-123")
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM publishing_xaccount WHERE id = %s", [account.pk])
        stored = cursor.fetchone()[0]
    assert "tok-abc-123" not in stored
    assert stored.startswith("gAAAA")  # a Fernet token
    assert XAccount.objects.get(pk=account.pk).access_token == "tok-abc-123"
