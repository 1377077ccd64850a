"""Shared calendars: written once in the admin, chosen by many jobs.

A Django-only table (the scheduler reads each job's own ``calendar`` column),
so it is created plainly, not only where missing as the shared columns are.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0011_chains")]

    operations = [
        migrations.CreateModel(
            name="SharedCalendar",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=200, unique=True)),
                ("description", models.TextField(blank=True, default="")),
                ("exclude", models.TextField(blank=True, default="")),
                ("holidays", models.CharField(blank=True, default="", max_length=16)),
                ("business_days", models.BooleanField(default=False)),
                ("on_excluded", models.CharField(default="skip", max_length=32)),
            ],
            options={
                "verbose_name": "shared calendar",
                "db_table": "scheduler_calendar",
                "ordering": ("name",),
            },
        ),
    ]
