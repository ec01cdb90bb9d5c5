from django.db import migrations


class Migration(migrations.Migration):
    """The heartbeat's table now belongs to `core` (see core 0001); only Django's state forgets it here."""

    dependencies = [
        ("clipcast", "0001_heartbeat"),
        ("core", "0001_heartbeat_moved_from_clipcast"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Heartbeat")],
                                            database_operations=[]),
    ]
