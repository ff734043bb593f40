# Sessions that share a team's week were made before the one-retro-a-week rule: the open
# one (0004 allowed one a week), or else the first held, stays the week's retro; the
# others are kept as they are, history with their decisions and actions, and marked as
# extra so the rule (0008) exempts them. Nothing is deleted or moved to another week.
from django.db import migrations
from django.db.models import Count


def mark_extras(apps, schema_editor):
    RetroSession = apps.get_model("retros", "RetroSession")
    shared = (
        RetroSession.objects.values("team_id", "week_of")
        .annotate(sessions=Count("pk"))
        .filter(sessions__gt=1)
    )
    for week in shared:
        sessions = list(
            RetroSession.objects.filter(team_id=week["team_id"], week_of=week["week_of"])
        )
        sessions.sort(
            key=lambda session: (
                session.status == "closed",  # the open one first
                session.started_at is None,
                session.started_at,
                session.pk,
            )
        )
        RetroSession.objects.filter(pk__in=[session.pk for session in sessions[1:]]).update(
            extra_in_week=True
        )


def unmark(apps, schema_editor):
    apps.get_model("retros", "RetroSession").objects.update(extra_in_week=False)


class Migration(migrations.Migration):
    dependencies = [("retros", "0006_retrosession_extra_in_week")]

    operations = [migrations.RunPython(mark_extras, unmark)]
