"""Joins: a job may run after two or more jobs, once per slot all of them ran for.

The job row gets ``chain_upstreams`` (a join's upstreams as JSON; NULL for
every existing job, whose one upstream stays in ``chain_after``), and the
table ``scheduler_job_upstream`` holds one row per upstream of a join, indexed
by name, for the wake-up to find their ends.  No existing job is a join, so
nothing is copied.  The SQLAlchemy schema has the same column and table
under the same names, and ``tickwork run`` may have made them already: the
column is added only where missing (as 0005 does), the table only where
missing; on MariaDB and MySQL the table gets the binary collation (as 0006).
"""

import importlib
from typing import Any

import django.db.models.deletion
from django.db import migrations, models

AddFieldIfMissing = importlib.import_module(
    "scheduler.django.migrations.0005_job_notify"
).AddFieldIfMissing


class CreateModelIfMissing(migrations.CreateModel):
    """``CreateModel``, except that a table already there is left as it is."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.name)
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
        if model._meta.db_table in tables:
            return
        super().database_forwards(app_label, schema_editor, from_state, to_state)
        if connection.vendor == "mysql":
            schema_editor.execute(
                f"ALTER TABLE {model._meta.db_table} "
                "CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0012_shared_calendar")]

    operations = [
        AddFieldIfMissing(
            model_name="job",
            name="chain_upstreams",
            field=models.TextField(blank=True, help_text="JSON", null=True),
        ),
        CreateModelIfMissing(
            name="JobUpstream",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "job",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="upstreams",
                        to="scheduler.job",
                    ),
                ),
                ("position", models.IntegerField()),
                ("name", models.CharField(max_length=200)),
            ],
            options={
                "verbose_name": "job upstream",
                "db_table": "scheduler_job_upstream",
                "indexes": [models.Index(fields=["name"], name="scheduler_job_upstream_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("job", "name"), name="scheduler_job_upstream_uniq"
                    )
                ],
            },
        ),
    ]
