"""The job's calendar: the days it does not run on, as JSON.

Nullable, and NULL for every existing job: no calendar, so no job's slots or
definition hash change.  The SQLAlchemy schema has the same column, which
``tickwork run`` adds to a database it created; it is added here only where it
is missing, as 0005 does for ``notify``.
"""

import importlib

from django.db import migrations, models

AddFieldIfMissing = importlib.import_module(
    "scheduler.django.migrations.0005_job_notify"
).AddFieldIfMissing


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0007_job_max_memory")]

    operations = [
        AddFieldIfMissing(
            model_name="job",
            name="calendar",
            field=models.TextField(blank=True, null=True, help_text="JSON"),
        ),
    ]
