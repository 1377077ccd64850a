"""Chains: a job may run after another; its runs link the upstream run that started them.

Runs get the trigger ``chain``.  Every column is nullable, and NULL for what
exists: no job is chained, and no run is a chained run or has had its end
passed to a chain.  The SQLAlchemy
schema has the same columns and indexes under the same names, and ``tickwork
run`` may have made them already: columns are added only where missing (as
0005 does), indexes with ``IF NOT EXISTS`` (MariaDB and MySQL cannot say it,
so the catalogue is asked first, as 0009 does).
"""

import importlib

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from scheduler.django.fields import UTCDateTimeField

AddFieldIfMissing = importlib.import_module(
    "scheduler.django.migrations.0005_job_notify"
).AddFieldIfMissing

# name: (unique, table, columns)
INDEXES = {
    "scheduler_job_chain_idx": (False, "scheduler_job", "chain_after"),
    "scheduler_run_chain_idx": (False, "scheduler_run", "job_id, chained_at, finished_at"),
    "scheduler_run_upstream_uniq": (True, "scheduler_run", "job_id, upstream_run_id"),
}


def _exists(schema_editor: BaseDatabaseSchemaEditor, table: str, name: str) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() "
            "AND table_name = %s AND index_name = %s",
            [table, name],
        )
        return cursor.fetchone() is not None


def create_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    mysql = schema_editor.connection.vendor == "mysql"
    for name, (unique, table, columns) in INDEXES.items():
        kind = "UNIQUE INDEX" if unique else "INDEX"
        if not mysql:
            schema_editor.execute(f"CREATE {kind} IF NOT EXISTS {name} ON {table} ({columns})")
        elif not _exists(schema_editor, table, name):
            schema_editor.execute(f"CREATE {kind} {name} ON {table} ({columns})")


def drop_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    mysql = schema_editor.connection.vendor == "mysql"
    for name, (_, table, _) in INDEXES.items():
        on = f" ON {table}" if mysql else ""
        exists = "" if mysql else "IF EXISTS "
        schema_editor.execute(f"DROP INDEX {exists}{name}{on}")


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0010_job_solar")]

    operations = [
        AddFieldIfMissing(
            model_name="job",
            name="chain_after",
            field=models.CharField(blank=True, max_length=200, null=True),
        ),
        AddFieldIfMissing(
            model_name="job",
            name="chain_when",
            field=models.CharField(blank=True, max_length=10, null=True),
        ),
        AddFieldIfMissing(
            model_name="run",
            name="upstream_run_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        AddFieldIfMissing(
            model_name="run",
            name="chained_at",
            field=UTCDateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="run",
            name="trigger",
            field=models.CharField(
                choices=[
                    ("schedule", "schedule"),
                    ("catchup", "catchup"),
                    ("retry", "retry"),
                    ("manual", "manual"),
                    ("chain", "chain"),
                ],
                max_length=10,
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="job",
                    index=models.Index(fields=["chain_after"], name="scheduler_job_chain_idx"),
                ),
                migrations.AddIndex(
                    model_name="run",
                    index=models.Index(
                        fields=["job", "chained_at", "finished_at"],
                        name="scheduler_run_chain_idx",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="run",
                    constraint=models.UniqueConstraint(
                        fields=["job", "upstream_run_id"], name="scheduler_run_upstream_uniq"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(create_indexes, reverse_code=drop_indexes, atomic=False)
            ],
        ),
    ]
