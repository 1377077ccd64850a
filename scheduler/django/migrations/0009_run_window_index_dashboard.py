"""The index of runs by slot, then job and status; and the dashboard's place in the admin.

The admin dashboard counts a window of runs (the last 24 hours, 7 or 30 days)
per status and per job; this index lets the database read those counts from
the index alone, however long the history before the window.  The SQLAlchemy
schema has the same index under the same name, and ``tickwork run`` may have
made it already: hence ``IF NOT EXISTS`` (MariaDB and MySQL cannot say it, so
the catalogue is asked first), as 0004 does.

``Dashboard`` is a proxy of ``Run`` without permissions of its own: it only
gives the dashboard its URL, ``/admin/scheduler/dashboard/``.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INDEX = models.Index(fields=["scheduled_for", "job", "status"], name="scheduler_run_window_idx")
COLUMNS = "scheduler_run (scheduled_for, job_id, status)"


def create_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "mysql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() "
                "AND table_name = 'scheduler_run' AND index_name = 'scheduler_run_window_idx'"
            )
            if cursor.fetchone() is None:
                schema_editor.execute(f"CREATE INDEX scheduler_run_window_idx ON {COLUMNS}")
        return
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS scheduler_run_window_idx ON {COLUMNS}")


def drop_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute("DROP INDEX scheduler_run_window_idx ON scheduler_run")
        return
    schema_editor.execute("DROP INDEX IF EXISTS scheduler_run_window_idx")


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0008_job_calendar")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="run", index=INDEX)],
            database_operations=[
                migrations.RunPython(create_index, reverse_code=drop_index, atomic=False)
            ],
        ),
        migrations.CreateModel(
            name="Dashboard",
            fields=[],
            options={
                "verbose_name": "dashboard",
                "verbose_name_plural": "dashboard",
                "proxy": True,
                "default_permissions": (),
                "indexes": [],
                "constraints": [],
            },
            bases=("scheduler.run",),
        ),
    ]
