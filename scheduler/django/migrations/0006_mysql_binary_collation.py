"""On MariaDB and MySQL: the tables in ``utf8mb4`` with the binary collation.

Django makes tables in the database's default character set and collation,
which on MariaDB and MySQL is usually case-insensitive (``utf8mb4_general_ci``)
or even three-byte ``utf8``: job names ``Report`` and ``report`` would then be
one name to the unique constraint, and an emoji in a description could not
be stored.  The SQLAlchemy store makes its tables ``utf8mb4_bin``; this makes
Django's the same.  Nothing happens on other databases.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLES = ("scheduler_job", "scheduler_run", "scheduler_replica")


def to_binary_collation(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "mysql":
        for table in TABLES:
            schema_editor.execute(
                f"ALTER TABLE {table} CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0005_job_notify")]

    operations = [
        migrations.RunPython(
            to_binary_collation, reverse_code=migrations.RunPython.noop, atomic=False
        ),
    ]
