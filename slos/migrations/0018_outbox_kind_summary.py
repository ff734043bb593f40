# A retro's summary is posted to Slack through the outbox. Choices only.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("slos", "0017_slo_target_bounds_decimal"),
    ]

    operations = [
        migrations.AlterField(
            model_name="outboxmessage",
            name="kind",
            field=models.CharField(
                choices=[
                    ("alert", "Alert"),
                    ("ticket", "Ticket"),
                    ("digest", "Ticket digest"),
                    ("summary", "Retro summary"),
                ],
                max_length=8,
                verbose_name="kind",
            ),
        ),
    ]
