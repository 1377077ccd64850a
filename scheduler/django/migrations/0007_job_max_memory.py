"""The job's ``max_memory`` in bytes (the process executor's ``RLIMIT_AS``).

Nullable, and NULL for every existing job: no limit, the default, so no job's
behaviour or definition hash changes.  The SQLAlchemy schema has the same
column, which ``tickwork run`` adds to a database it created (``ADD COLUMN``);
a database made by ``tickwork run`` and adopted with ``migrate
--fake-initial`` has it already, so it is added only where it is missing, as
0005 does for ``notify``.
"""

import importlib

from django.db import migrations, models

AddFieldIfMissing = importlib.import_module(
    "scheduler.django.migrations.0005_job_notify"
).AddFieldIfMissing


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0006_mysql_binary_collation")]

    operations = [
        AddFieldIfMissing(
            model_name="job",
            name="max_memory_bytes",
            field=models.BigIntegerField(blank=True, null=True),
        ),
    ]
