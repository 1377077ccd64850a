"""The ``scheduler.run_job`` permission: who may queue a run from the admin.

It changes no table; Django creates the permission row after migrating.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0002_replica_id_without_pattern_index")]

    operations = [
        migrations.AlterModelOptions(
            name="job",
            options={
                "permissions": (("run_job", "Can run a job now"),),
                "verbose_name": "job",
            },
        ),
    ]
