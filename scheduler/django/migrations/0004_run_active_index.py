"""The partial index of the runs that have not ended, by job.

A claim asks, for every due job, whether it has a run going (the overlap
rule); this index answers each question with one probe, however long the
job's history and however many runs are in flight.  The SQLAlchemy schema
has the same index, under the same name, and ``tickwork run`` may have made
it already (a database adopted with ``migrate --fake-initial``): hence
``IF NOT EXISTS``, which Django's ``AddIndex`` cannot say.

MariaDB and MySQL have no partial index (Django would skip this one there,
silently): they get the whole ``(job_id, status)`` index, which answers the
same probe from the same two columns, as the SQLAlchemy store's schema has it.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INDEX = models.Index(
    condition=models.Q(status__in=["pending", "queued", "running"]),
    fields=["job", "status"],
    name="scheduler_run_active_idx",
)


def create_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "mysql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() "
                "AND table_name = 'scheduler_run' AND index_name = 'scheduler_run_active_idx'"
            )
            if cursor.fetchone() is None:
                schema_editor.execute(
                    "CREATE INDEX scheduler_run_active_idx ON scheduler_run (job_id, status)"
                )
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS scheduler_run_active_idx "
        "ON scheduler_run (job_id, status) "
        "WHERE status IN ('pending', 'queued', 'running')"
    )


def drop_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute("DROP INDEX scheduler_run_active_idx ON scheduler_run")
        return
    schema_editor.execute("DROP INDEX IF EXISTS scheduler_run_active_idx")


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0003_job_run_permission")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="run", index=INDEX)],
            database_operations=[
                migrations.RunPython(create_index, reverse_code=drop_index, atomic=False)
            ],
        ),
    ]
