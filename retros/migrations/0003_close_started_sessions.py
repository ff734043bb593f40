# Sessions made before the weekly cadence were started at once and never closed: they
# become closed sessions (read-only history) held when they were started. Their
# snapshots' windows were all rolling, which the new window_kind default says already.
from django.db import migrations


def close_started(apps, schema_editor):
    RetroSession = apps.get_model("retros", "RetroSession")
    for session in RetroSession.objects.filter(started_at__isnull=False):
        session.status = "closed"
        session.scheduled_at = session.started_at
        session.closed_at = session.started_at
        session.save(update_fields=["status", "scheduled_at", "closed_at"])


class Migration(migrations.Migration):
    dependencies = [("retros", "0002_retro_meeting")]

    operations = [migrations.RunPython(close_started, migrations.RunPython.noop)]
