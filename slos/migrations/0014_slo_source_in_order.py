# A pull loads a source's SLOs in pk order, in stages: an index on (data_source, id)
# lets each stage read only its own rows. It leads with the data source, so it also
# serves what the foreign key's own index served, which goes.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('slos', '0013_bucket_ids_cached'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='slo',
            name='data_source',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='slos', to='slos.datasource'),
        ),
        migrations.AddIndex(
            model_name='slo',
            index=models.Index(fields=['data_source', 'id'], name='slo_source_in_order'),
        ),
    ]
