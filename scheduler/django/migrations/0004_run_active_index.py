"""The partial index of the runs that have not ended, by job.

A claim asks, for every due job, whether it has a run going (the overlap
rule); this index answers each question with one probe, however long the
job's history and however many runs are in flight.  The SQLAlchemy schema
has the same index, under the same name, and ``tickwork run`` may have made
it already (a database adopted with ``migrate --fake-initial``): hence
``IF NOT EXISTS``, which Django's ``AddIndex`` cannot say.
"""

from django.db import migrations, models

INDEX = models.Index(
    condition=models.Q(status__in=["pending", "queued", "running"]),
    fields=["job", "status"],
    name="scheduler_run_active_idx",
)


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0003_job_run_permission")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="run", index=INDEX)],
            database_operations=[
                migrations.RunSQL(
                    "CREATE INDEX IF NOT EXISTS scheduler_run_active_idx "
                    "ON scheduler_run (job_id, status) "
                    "WHERE status IN ('pending', 'queued', 'running')",
                    reverse_sql="DROP INDEX IF EXISTS scheduler_run_active_idx",
                ),
            ],
        ),
    ]
