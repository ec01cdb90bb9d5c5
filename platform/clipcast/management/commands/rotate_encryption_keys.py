"""Re-encrypt every stored secret with the newest key of CLIPCAST_ENCRYPTION_KEYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from core import crypto
from core.fields import EncryptedTextField


class Command(BaseCommand):
    help = "Rotate encryption keys: put a new key first in CLIPCAST_ENCRYPTION_KEYS, run this, then drop the old key."

    def handle(self, *args, **options) -> None:
        from django.apps import apps

        total = 0
        with transaction.atomic():
            for model in apps.get_models():
                fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
                if not fields:
                    continue
                table = connection.ops.quote_name(model._meta.db_table)
                pk = connection.ops.quote_name(model._meta.pk.column)
                columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
                with connection.cursor() as cursor:
                    # Raw SQL on purpose: the ciphertext is rotated as stored, never decrypted into model instances.
                    cursor.execute(f"SELECT {pk}, {columns} FROM {table}")  # noqa: S608 - names come from the ORM
                    rows = cursor.fetchall()
                    for row in rows:
                        rotated = [crypto.rotate(value) if value else value for value in row[1:]]
                        assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
                        cursor.execute(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", [*rotated, row[0]])  # noqa: S608
                total += len(rows)
                self.stdout.write(f"{model._meta.label}: {len(rows)} row(s) re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} row(s) now use the newest key."))
