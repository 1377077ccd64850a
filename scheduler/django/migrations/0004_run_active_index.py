"""The partial index of the runs that have not ended, by job.

A claim asks, for every due job, whether it has a run going (the overlap
rule); this index answers each question with one probe, however long the
job's history and however many runs are in flight.  The SQLAlchemy schema
has the same index, under the same name.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0003_job_run_permission")]

    operations = [
        migrations.AddIndex(
            model_name="run",
            index=models.Index(
                condition=models.Q(status__in=["pending", "queued", "running"]),
                fields=["job", "status"],
                name="scheduler_run_active_idx",
            ),
        ),
    ]
