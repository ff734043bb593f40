# A nightly pull need not count every SLO's stored hours to find holes (about half of
# its database time at 1,000 SLOs, bench/ingest.py). A pull that leaves an SLO's window
# without a hole records the hours it found whole (SLO.buckets_complete_from, _until),
# with the count of the SLO's removed rows it read before it looked
# (buckets_complete_removals). Rows added later cannot open a hole in those hours; only
# a removed row can, and on PostgreSQL these triggers count every one, whichever way it
# goes (the ORM, raw SQL, a cascade, TRUNCATE, a row moved to another SLO or hour), in
# SLO.bucket_removals. While the two counts agree, the record holds. The count never
# goes down, not even when a model instance read before a removal is saved.
#
# SQLite (the embedded default) gets no triggers: its table rebuilds would break on
# triggers naming other tables. There the record is never trusted: a pull counts.
# tests/slos/test_buckets_complete.py checks the triggers are there after migrating.

from django.db import migrations, models

POSTGRESQL = [
    """
    CREATE FUNCTION slos_buckets_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE slos_slo SET bucket_removals = bucket_removals + 1
        WHERE id IN (SELECT DISTINCT slo_id FROM removed_buckets);
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER buckets_removed AFTER DELETE ON slos_hourlybucket
    REFERENCING OLD TABLE AS removed_buckets
    FOR EACH STATEMENT EXECUTE FUNCTION slos_buckets_removed()
    """,
    """
    CREATE FUNCTION slos_bucket_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE slos_slo SET bucket_removals = bucket_removals + 1 WHERE id = OLD.slo_id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER bucket_moved AFTER UPDATE OF slo_id, hour ON slos_hourlybucket
    FOR EACH ROW WHEN (OLD.slo_id IS DISTINCT FROM NEW.slo_id OR OLD.hour IS DISTINCT FROM NEW.hour)
    EXECUTE FUNCTION slos_bucket_moved()
    """,
    """
    CREATE FUNCTION slos_buckets_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE slos_slo SET bucket_removals = bucket_removals + 1;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION slos_bucket_removals_kept() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.bucket_removals := OLD.bucket_removals;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER bucket_removals_kept BEFORE UPDATE OF bucket_removals ON slos_slo
    FOR EACH ROW WHEN (NEW.bucket_removals < OLD.bucket_removals)
    EXECUTE FUNCTION slos_bucket_removals_kept()
    """,
    """
    CREATE TRIGGER buckets_truncated AFTER TRUNCATE ON slos_hourlybucket
    FOR EACH STATEMENT EXECUTE FUNCTION slos_buckets_truncated()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS buckets_removed ON slos_hourlybucket",
    "DROP TRIGGER IF EXISTS bucket_moved ON slos_hourlybucket",
    "DROP TRIGGER IF EXISTS buckets_truncated ON slos_hourlybucket",
    "DROP TRIGGER IF EXISTS bucket_removals_kept ON slos_slo",
    "DROP FUNCTION IF EXISTS slos_bucket_removals_kept()",
    "DROP FUNCTION IF EXISTS slos_buckets_removed()",
    "DROP FUNCTION IF EXISTS slos_bucket_moved()",
    "DROP FUNCTION IF EXISTS slos_buckets_truncated()",
]


def count_removals(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in POSTGRESQL:
        schema_editor.execute(statement, params=None)


def stop_counting(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in POSTGRESQL_REVERSE:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("slos", "0011_bucket_slo_checked_per_statement"),
    ]

    operations = [
        migrations.AddField(
            model_name="slo",
            name="bucket_removals",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="slo",
            name="buckets_complete_from",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="slo",
            name="buckets_complete_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="slo",
            name="buckets_complete_removals",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(count_removals, stop_counting),
    ]
