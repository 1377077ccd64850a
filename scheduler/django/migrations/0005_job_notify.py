"""The job's ``notify:`` setting (who hears about its runs), as JSON text.

Nullable, and NULL for every existing job: NULL is the default (every
configured notifier, under its own rules), so no job's behaviour or
definition hash changes.  The SQLAlchemy schema has the same column, which
``tickwork run`` adds to a database it created (``ADD COLUMN``).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0004_run_active_index")]

    operations = [
        migrations.AddField(
            model_name="job",
            name="notify",
            field=models.TextField(blank=True, help_text="JSON", null=True),
        ),
    ]
