# A pull run counts its SLOs by outcome and keeps an entry only for those worth a look
# (not ok, or some missing hours not stored): one entry per SLO made a 1,000-SLO run's
# record 114 kB of JSON, written at the end of every pull and read for every run the
# ingestion health page lists. Existing runs are counted from their entries, which are
# then trimmed the same way.

from django.db import migrations, models


def worth_a_look(outcome):
    return outcome.get("status") != "ok" or outcome.get("hours_stored") != outcome.get(
        "hours_missing"
    )


def count_and_trim(apps, schema_editor):
    PullRun = apps.get_model("slos", "PullRun")
    changed = []
    for run in PullRun.objects.only("outcomes").iterator(chunk_size=200):
        statuses = [outcome.get("status") for outcome in run.outcomes]
        run.count_ok = statuses.count("ok")
        run.count_partial = statuses.count("partial")
        run.count_failed = statuses.count("failed")
        run.outcomes = [outcome for outcome in run.outcomes if worth_a_look(outcome)]
        changed.append(run)
        if len(changed) == 200:
            PullRun.objects.bulk_update(
                changed, ["count_ok", "count_partial", "count_failed", "outcomes"]
            )
            changed = []
    PullRun.objects.bulk_update(changed, ["count_ok", "count_partial", "count_failed", "outcomes"])


class Migration(migrations.Migration):
    dependencies = [
        ("slos", "0014_slo_source_in_order"),
    ]

    operations = [
        migrations.AddField(
            model_name="pullrun",
            name="count_ok",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="pullrun",
            name="count_partial",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="pullrun",
            name="count_failed",
            field=models.PositiveIntegerField(default=0),
        ),
        # Backwards, the counts go and the trimmed entries stay trimmed.
        migrations.RunPython(count_and_trim, migrations.RunPython.noop),
    ]
