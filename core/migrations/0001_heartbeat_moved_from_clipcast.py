import datetime

from django.db import migrations, models


class Migration(migrations.Migration):
    """The heartbeat moved from the web shell's app to `core`: its table stays, only Django's state moves."""

    initial = True

    dependencies = [
        ("clipcast", "0001_heartbeat"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Heartbeat",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("beat_at", models.DateTimeField()),
                        ("interval", models.DurationField(default=datetime.timedelta(seconds=30))),
                        ("host", models.CharField(blank=True, max_length=255)),
                        ("count", models.PositiveBigIntegerField(default=0)),
                    ],
                    options={"ordering": ["name"], "db_table": "clipcast_heartbeat"},
                ),
            ],
            database_operations=[],
        ),
    ]
