"""Drop the index Django adds to a CharField primary key on PostgreSQL.

Django gives such a key a second, ``varchar_pattern_ops`` index for LIKE
queries.  The schema shared with the SQLAlchemy store has none, and replica ids
are only ever compared whole.  The index is created after the operations of
0001 run, hence a migration of its own; on SQLite, MariaDB and MySQL it never
exists (and the statement is PostgreSQL's).
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def drop_like_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX IF EXISTS "scheduler_replica_id_392218db_like"')


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0001_initial")]

    operations = [
        migrations.RunPython(drop_like_index, reverse_code=migrations.RunPython.noop, atomic=False),
    ]
