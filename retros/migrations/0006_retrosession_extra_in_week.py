# One retro a team and week, closed ones included (#17). First the mark for the sessions
# held before that rule in a week that already had one (0007 sets it), then the rule
# itself (0008), so a database holding two sessions of one week migrates.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("retros", "0005_backlog_item_reverse_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="retrosession",
            name="extra_in_week",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text="Held in a week that already had a retro, before the one-a-week rule.",
                verbose_name="extra in its week",
            ),
        ),
    ]
