# One retro a team and week, closed ones included; the extra sessions 0007 marked are
# exempt. It replaces 0004's rule of one open session a week.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("retros", "0007_mark_extra_sessions_in_a_week"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="retrosession",
            name="retro_one_open_per_team_week",
        ),
        migrations.AddConstraint(
            model_name="retrosession",
            constraint=models.UniqueConstraint(
                condition=models.Q(("extra_in_week", False)),
                fields=("team", "week_of"),
                name="retro_one_per_team_week",
                violation_error_message="The team already has a retro in this week.",
            ),
        ),
    ]
