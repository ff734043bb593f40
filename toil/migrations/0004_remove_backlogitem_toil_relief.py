from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("toil", "0003_backlog_statuses_and_toil_hours")]
    operations = [migrations.RemoveField(model_name="backlogitem", name="toil_relief")]
