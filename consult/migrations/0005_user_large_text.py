from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consult", "0004_apitoken"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="large_text",
            field=models.BooleanField(default=False, verbose_name="large text"),
        ),
    ]
