# The bucket table's own index on slo_id duplicates the leading column of the unique
# (slo, hour) index. Dropped by name: letting Django alter the field would also drop and
# re-validate the foreign key, a full scan of the biggest table.

import django.db.models.deletion
from django.db import migrations, models

INDEX = "slos_hourlybucket_slo_id_a865fb76"


class Migration(migrations.Migration):
    dependencies = [
        ("slos", "0009_intakesource_last_received_from_requests"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="hourlybucket",
                    name="slo",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="buckets",
                        to="slos.slo",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    reverse_sql=f"CREATE INDEX {INDEX} ON slos_hourlybucket (slo_id)",
                ),
            ],
        ),
    ]
