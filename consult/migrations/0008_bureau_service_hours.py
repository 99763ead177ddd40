from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consult", "0007_bureau_call_recording"),
    ]

    operations = [
        migrations.AddField(
            model_name="bureau",
            name="service_hours",
            field=models.CharField(blank=True, max_length=100, verbose_name="service hours"),
        ),
    ]
