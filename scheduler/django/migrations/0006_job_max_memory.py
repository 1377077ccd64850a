"""The job's ``max_memory`` in bytes (the process executor's ``RLIMIT_AS``).

Nullable, and NULL for every existing job: no limit, the default, so no job's
behaviour or definition hash changes.  The SQLAlchemy schema has the same
column, which ``tickwork run`` adds to a database it created (``ADD COLUMN``).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0005_job_notify")]

    operations = [
        migrations.AddField(
            model_name="job",
            name="max_memory_bytes",
            field=models.BigIntegerField(blank=True, null=True),
        ),
    ]
