# Timeline details the platform composes, stored as a code and parameters (consult.kernel.texts).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0004_publication_due_and_deadline_basis"),
    ]

    operations = [
        migrations.AddField(
            model_name="proposalevent",
            name="code",
            field=models.CharField(blank=True, max_length=60, verbose_name="text code"),
        ),
        migrations.AddField(
            model_name="proposalevent",
            name="params",
            field=models.JSONField(blank=True, default=dict, verbose_name="text parameters"),
        ),
    ]
