# Platform lines stored as a code and parameters, rendered in the reader's language (consult.kernel.texts).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0006_call_guest"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="code",
            field=models.CharField(blank=True, max_length=60, verbose_name="text code"),
        ),
        migrations.AddField(
            model_name="message",
            name="params",
            field=models.JSONField(blank=True, default=dict, verbose_name="text parameters"),
        ),
    ]
