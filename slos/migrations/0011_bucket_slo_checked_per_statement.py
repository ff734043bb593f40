# On PostgreSQL, the bucket table's reference to its SLO is checked once per statement
# instead of once per row. A foreign key runs one lookup per inserted row at commit:
# about 5 s of a 1,000-SLO backfill's 672,000 rows, more than the COPY itself
# (bench/ingest.py). The triggers below keep the same rule (no bucket without its SLO;
# no SLO deleted, or renumbered, while buckets name it), with the lock a foreign key
# check takes (FOR KEY SHARE on the SLOs named), so a concurrent delete of an SLO still
# waits for, or fails, the insert. The ORM's cascade (on_delete) is unchanged.
#
# The model still declares the foreign key, and SQLite (the embedded default) keeps it:
# its table rebuilds recreate it from the model, where triggers naming other tables
# would break them. On PostgreSQL, a later migration that alters HourlyBucket.slo
# itself must drop these triggers and put the constraint back first.
#
# Also: a partial index on stale rows, so a pull finds them without reading the window.

from django.db import migrations, models

POSTGRESQL = [
    """
    CREATE FUNCTION slos_bucket_slo_exists() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        named_count bigint;
        locked_count bigint;
    BEGIN
        -- One pass over the new rows: the SLOs they name, locked as a foreign key check
        -- locks them; fewer locked than named means a row names no SLO.
        WITH named AS (SELECT DISTINCT slo_id FROM new_buckets),
        locked AS (
            SELECT id FROM slos_slo WHERE id IN (SELECT slo_id FROM named) FOR KEY SHARE
        )
        SELECT (SELECT count(*) FROM named), (SELECT count(*) FROM locked)
        INTO named_count, locked_count;
        IF locked_count < named_count THEN
            RAISE EXCEPTION 'hourly bucket names an SLO that does not exist'
                USING ERRCODE = 'foreign_key_violation', TABLE = 'slos_hourlybucket';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER bucket_slo_exists AFTER INSERT ON slos_hourlybucket
    REFERENCING NEW TABLE AS new_buckets
    FOR EACH STATEMENT EXECUTE FUNCTION slos_bucket_slo_exists()
    """,
    """
    CREATE FUNCTION slos_bucket_slo_exists_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM slos_slo WHERE id = NEW.slo_id FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'hourly bucket names an SLO that does not exist'
                USING ERRCODE = 'foreign_key_violation', TABLE = 'slos_hourlybucket';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER bucket_slo_exists_on_update AFTER UPDATE OF slo_id ON slos_hourlybucket
    FOR EACH ROW WHEN (OLD.slo_id IS DISTINCT FROM NEW.slo_id)
    EXECUTE FUNCTION slos_bucket_slo_exists_row()
    """,
    """
    CREATE FUNCTION slos_slo_without_buckets() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM slos_hourlybucket WHERE slo_id = OLD.id) THEN
            RAISE EXCEPTION 'SLO % still has hourly buckets', OLD.id
                USING ERRCODE = 'foreign_key_violation', TABLE = 'slos_slo';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER slo_without_buckets AFTER DELETE ON slos_slo
    FOR EACH ROW EXECUTE FUNCTION slos_slo_without_buckets()
    """,
    """
    CREATE TRIGGER slo_id_without_buckets AFTER UPDATE OF id ON slos_slo
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION slos_slo_without_buckets()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS bucket_slo_exists ON slos_hourlybucket",
    "DROP TRIGGER IF EXISTS bucket_slo_exists_on_update ON slos_hourlybucket",
    "DROP TRIGGER IF EXISTS slo_without_buckets ON slos_slo",
    "DROP TRIGGER IF EXISTS slo_id_without_buckets ON slos_slo",
    "DROP FUNCTION IF EXISTS slos_bucket_slo_exists()",
    "DROP FUNCTION IF EXISTS slos_bucket_slo_exists_row()",
    "DROP FUNCTION IF EXISTS slos_slo_without_buckets()",
]

FOREIGN_KEY = """
    SELECT conname FROM pg_constraint
    WHERE conrelid = 'slos_hourlybucket'::regclass AND contype = 'f'
      AND confrelid = 'slos_slo'::regclass
"""


def checks_per_statement(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FOREIGN_KEY)
        names = [name for (name,) in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f'ALTER TABLE slos_hourlybucket DROP CONSTRAINT "{name}"')
    for statement in POSTGRESQL:
        schema_editor.execute(statement, params=None)


def foreign_key_again(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in POSTGRESQL_REVERSE:
        schema_editor.execute(statement, params=None)
    schema_editor.execute(
        "ALTER TABLE slos_hourlybucket ADD CONSTRAINT slos_hourlybucket_slo_id_a865fb76_fk_slos_slo_id "
        "FOREIGN KEY (slo_id) REFERENCES slos_slo (id) DEFERRABLE INITIALLY DEFERRED"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("slos", "0010_bucket_slo_index_covered_by_unique"),
    ]

    operations = [
        migrations.RunPython(checks_per_statement, foreign_key_again),
        migrations.AddIndex(
            model_name="hourlybucket",
            index=models.Index(
                condition=models.Q(stale=True), fields=["slo", "hour"], name="bucket_stale"
            ),
        ),
    ]
