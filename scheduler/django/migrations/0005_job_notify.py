"""The job's ``notify:`` setting (who hears about its runs), as JSON text.

Nullable, and NULL for every existing job: NULL is the default (every
configured notifier, under its own rules), so no job's behaviour or
definition hash changes.  The SQLAlchemy schema has the same column, which
``tickwork run`` adds to a database it created (``ADD COLUMN``); a database
made by ``tickwork run`` and adopted with ``migrate --fake-initial`` has it
already, so the column is added only where it is missing (not every database
can say ``ADD COLUMN IF NOT EXISTS``).
"""

from typing import Any

from django.db import migrations, models


class AddFieldIfMissing(migrations.AddField):
    """``AddField``, except that a column already there is left as it is."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            table = model._meta.db_table
            columns = {
                c.name for c in connection.introspection.get_table_description(cursor, table)
            }
        if model._meta.get_field(self.name).column not in columns:
            super().database_forwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0004_run_active_index")]

    operations = [
        AddFieldIfMissing(
            model_name="job",
            name="notify",
            field=models.TextField(blank=True, help_text="JSON", null=True),
        ),
    ]
