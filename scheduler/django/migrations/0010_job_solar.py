"""Solar schedules: the job's sun event, place and offset, as JSON.

Nullable, and NULL for every existing job (their schedule is in ``cron``,
``every_seconds`` or ``run_at``).  Added only where it is missing, as 0005
does for ``notify``.
"""

import importlib

from django.db import migrations, models

AddFieldIfMissing = importlib.import_module(
    "scheduler.django.migrations.0005_job_notify"
).AddFieldIfMissing


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0009_run_window_index_dashboard")]

    operations = [
        AddFieldIfMissing(
            model_name="job",
            name="solar",
            field=models.TextField(blank=True, null=True, help_text="JSON"),
        ),
    ]
