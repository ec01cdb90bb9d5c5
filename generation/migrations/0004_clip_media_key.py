import secrets

from django.db import migrations, models

import generation.models


def give_each_clip_its_own_key(apps, schema_editor):
    # AddField evaluates the default once for all existing rows: give every clip a key of its own.
    Clip = apps.get_model("generation", "Clip")
    for clip in Clip.objects.only("pk").iterator():
        Clip.objects.filter(pk=clip.pk).update(media_key=secrets.token_hex(16))


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0003_clip_frames_hash"),
    ]

    operations = [
        migrations.AddField(
            model_name="clip",
            name="media_key",
            field=models.CharField(default=generation.models.new_media_key, editable=False, max_length=32),
        ),
        migrations.RunPython(give_each_clip_its_own_key, migrations.RunPython.noop),
    ]
