# The hourly rows of each SLO summed by UTC day, kept by the database (DailyBucket says
# why). On PostgreSQL, three statement triggers on the hourly table (insert, update,
# delete: a trigger with transition tables takes one event) hand the (SLO, day) pairs a
# statement touched to one function, which sums those days again from the hourly rows:
# a recomputation, not a running delta, so the totals are the hourly rows' own sums and
# no float error piles up over updates. Days left with no hourly row are deleted.
#
# Two writers of the same day at once: each upserts the sums its own snapshot sees; the
# later statement waits on the earlier's row lock and then sees its committed rows.
#
# SQLite keeps the (empty) table for the model's sake and no triggers: there, budgets
# sum the hourly rows.

import django.db.models.deletion
from django.db import migrations, models

POSTGRESQL = [
    """
    CREATE FUNCTION slos_daily_bucket_refresh(slo_ids bigint[], days date[])
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO slos_dailybucket
            (slo_id, day, good, valid, good_slices, total_slices, hours, error_hours)
        SELECT b.slo_id, p.day, sum(b.good), sum(b.valid), sum(b.good_slices),
               sum(b.total_slices), count(*), count(*) FILTER (WHERE b.good > b.valid)
        FROM unnest(slo_ids, days) AS p(slo_id, day)
        JOIN slos_hourlybucket b ON b.slo_id = p.slo_id
            AND b.hour >= (p.day::timestamp AT TIME ZONE 'UTC')
            AND b.hour < ((p.day + 1)::timestamp AT TIME ZONE 'UTC')
        GROUP BY b.slo_id, p.day
        ON CONFLICT (slo_id, day) DO UPDATE SET
            good = EXCLUDED.good, valid = EXCLUDED.valid,
            good_slices = EXCLUDED.good_slices, total_slices = EXCLUDED.total_slices,
            hours = EXCLUDED.hours, error_hours = EXCLUDED.error_hours;
        DELETE FROM slos_dailybucket t
        USING unnest(slo_ids, days) AS p(slo_id, day)
        WHERE t.slo_id = p.slo_id AND t.day = p.day
          AND NOT EXISTS (
              SELECT 1 FROM slos_hourlybucket b WHERE b.slo_id = p.slo_id
                AND b.hour >= (p.day::timestamp AT TIME ZONE 'UTC')
                AND b.hour < ((p.day + 1)::timestamp AT TIME ZONE 'UTC'));
    END $$
    """,
    """
    CREATE FUNCTION slos_daily_bucket_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM slos_daily_bucket_refresh(array_agg(slo_id), array_agg(day))
        FROM (SELECT DISTINCT slo_id, (hour AT TIME ZONE 'UTC')::date AS day
              FROM new_buckets) AS touched;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION slos_daily_bucket_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM slos_daily_bucket_refresh(array_agg(slo_id), array_agg(day))
        FROM (SELECT slo_id, (hour AT TIME ZONE 'UTC')::date AS day FROM new_buckets
              UNION
              SELECT slo_id, (hour AT TIME ZONE 'UTC')::date AS day FROM old_buckets
             ) AS touched;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION slos_daily_bucket_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM slos_daily_bucket_refresh(array_agg(slo_id), array_agg(day))
        FROM (SELECT DISTINCT slo_id, (hour AT TIME ZONE 'UTC')::date AS day
              FROM old_buckets) AS touched;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER bucket_daily_insert AFTER INSERT ON slos_hourlybucket
    REFERENCING NEW TABLE AS new_buckets
    FOR EACH STATEMENT EXECUTE FUNCTION slos_daily_bucket_after_insert()
    """,
    """
    CREATE TRIGGER bucket_daily_update AFTER UPDATE ON slos_hourlybucket
    REFERENCING OLD TABLE AS old_buckets NEW TABLE AS new_buckets
    FOR EACH STATEMENT EXECUTE FUNCTION slos_daily_bucket_after_update()
    """,
    """
    CREATE TRIGGER bucket_daily_delete AFTER DELETE ON slos_hourlybucket
    REFERENCING OLD TABLE AS old_buckets
    FOR EACH STATEMENT EXECUTE FUNCTION slos_daily_bucket_after_delete()
    """,
    # The days already stored.
    """
    INSERT INTO slos_dailybucket
        (slo_id, day, good, valid, good_slices, total_slices, hours, error_hours)
    SELECT slo_id, (hour AT TIME ZONE 'UTC')::date, sum(good), sum(valid),
           sum(good_slices), sum(total_slices), count(*),
           count(*) FILTER (WHERE good > valid)
    FROM slos_hourlybucket GROUP BY slo_id, (hour AT TIME ZONE 'UTC')::date
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS bucket_daily_insert ON slos_hourlybucket",
    "DROP TRIGGER IF EXISTS bucket_daily_update ON slos_hourlybucket",
    "DROP TRIGGER IF EXISTS bucket_daily_delete ON slos_hourlybucket",
    "DROP FUNCTION IF EXISTS slos_daily_bucket_after_insert()",
    "DROP FUNCTION IF EXISTS slos_daily_bucket_after_update()",
    "DROP FUNCTION IF EXISTS slos_daily_bucket_after_delete()",
    "DROP FUNCTION IF EXISTS slos_daily_bucket_refresh(bigint[], date[])",
]


def triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in POSTGRESQL:
        schema_editor.execute(statement, params=None)


def no_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in POSTGRESQL_REVERSE:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('slos', '0023_calendar_day_and_week'),
    ]

    operations = [
        migrations.CreateModel(
            name='DailyBucket',
            fields=[
                ('pk', models.CompositePrimaryKey('slo', 'day', blank=True, editable=False, primary_key=True, serialize=False)),
                ('day', models.DateField()),
                ('good', models.FloatField()),
                ('valid', models.FloatField()),
                ('good_slices', models.PositiveIntegerField()),
                ('total_slices', models.PositiveIntegerField()),
                ('hours', models.PositiveSmallIntegerField()),
                ('error_hours', models.PositiveSmallIntegerField()),
                ('slo', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='daily_buckets', to='slos.slo')),
            ],
        ),
        migrations.RunPython(triggers, no_triggers),
    ]
