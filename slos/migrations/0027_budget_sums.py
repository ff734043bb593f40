# Budget sums kept between requests (slos/registry/budget_sums.py), and what tells when
# they are out of date: a count per SLO of the statements that changed its hourly rows,
# kept by the function the day rows' triggers already call (migration 0024), so that every
# writer counts, as every writer keeps the day rows. The function is the same as 0024's
# with the count added; the SLOs are counted in id order, so two writers of the same
# SLOs take their row locks in the same order.
#
# SQLite has neither the triggers nor the cache: there, budgets are summed on each read.

import importlib

import django.db.models.deletion
from django.db import migrations, models

DAILY = importlib.import_module("slos.migrations.0024_daily_bucket")

REFRESH_WITH_COUNT = DAILY.POSTGRESQL[0].replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
).replace(
    "    BEGIN\n",
    """    BEGIN
        INSERT INTO slos_bucketversion (slo_id, version)
        SELECT DISTINCT slo_id, 1 FROM unnest(slo_ids) AS touched(slo_id) ORDER BY slo_id
        ON CONFLICT (slo_id) DO UPDATE SET version = slos_bucketversion.version + 1;
""",
    1,
)
REFRESH_WITHOUT_COUNT = DAILY.POSTGRESQL[0].replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
)


# A deleted SLO's count and kept sums go with it, once its rows have gone (deleting the
# rows counts a write, so they cannot go before).
FORGET_DELETED = [
    """
    CREATE FUNCTION slos_slo_forget_kept() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM slos_bucketversion WHERE slo_id IN (SELECT id FROM old_slos);
        DELETE FROM slos_budgetsums WHERE slo_id IN (SELECT id FROM old_slos);
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER slo_forget_kept AFTER DELETE ON slos_slo
    REFERENCING OLD TABLE AS old_slos
    FOR EACH STATEMENT EXECUTE FUNCTION slos_slo_forget_kept()
    """,
]
REMEMBER_DELETED = [
    "DROP TRIGGER IF EXISTS slo_forget_kept ON slos_slo",
    "DROP FUNCTION IF EXISTS slos_slo_forget_kept()",
]


def count_writes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in (REFRESH_WITH_COUNT, *FORGET_DELETED):
            schema_editor.execute(statement, params=None)


def no_count(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in (*REMEMBER_DELETED, REFRESH_WITHOUT_COUNT):
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('slos', '0026_slo_labels'),
    ]

    operations = [
        migrations.CreateModel(
            name='BucketVersion',
            fields=[
                ('slo', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='+', serialize=False, to='slos.slo')),
                ('version', models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name='BudgetSums',
            fields=[
                ('slo', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='+', serialize=False, to='slos.slo')),
                ('key', models.TextField()),
                ('version', models.BigIntegerField()),
                ('sums', models.TextField()),
            ],
        ),
        migrations.RunPython(count_writes, no_count),
    ]
