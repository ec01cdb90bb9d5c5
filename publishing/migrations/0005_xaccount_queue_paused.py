from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("publishing", "0004_experiments"),
    ]

    operations = [
        migrations.AddField(
            model_name="xaccount",
            name="queue_paused",
            field=models.BooleanField(default=False),
        ),
    ]
