"""Data: the old open status becomes "ready"; the old toil relief level (0–3) becomes
hours a month that give the same level."""

from decimal import Decimal

from django.db import migrations

HOURS_FOR_LEVEL = {0: Decimal(0), 1: Decimal(1), 2: Decimal(4), 3: Decimal(10)}


def forwards(apps, schema_editor):
    item_model = apps.get_model("toil", "BacklogItem")
    item_model.objects.filter(status="open").update(status="ready")
    for level, hours in HOURS_FOR_LEVEL.items():
        item_model.objects.filter(toil_relief=level).update(toil_hours_per_month=hours)


def backwards(apps, schema_editor):
    item_model = apps.get_model("toil", "BacklogItem")
    item_model.objects.exclude(status__in=["done"]).update(status="open")
    item_model.objects.filter(status="wont_do").update(status="done")
    for item in item_model.objects.all():
        hours = item.toil_hours_per_month
        item.toil_relief = 0 if hours <= 0 else 1 if hours < 2 else 2 if hours <= 8 else 3
        item.save(update_fields=["toil_relief"])


class Migration(migrations.Migration):
    dependencies = [("toil", "0002_backlog_plan_worklog")]
    operations = [migrations.RunPython(forwards, backwards)]
