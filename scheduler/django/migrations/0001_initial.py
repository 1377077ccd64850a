"""The tables of scheduler.stores.sqlalchemy.schema, column for column (same order)."""

import django.db.models.deletion
from django.db import migrations, models

import scheduler.django.fields


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Replica",
            fields=[
                ("id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("hostname", models.CharField(max_length=255)),
                ("pid", models.IntegerField()),
                ("started_at", scheduler.django.fields.UTCDateTimeField()),
                ("heartbeat_at", scheduler.django.fields.UTCDateTimeField()),
                ("stopped_at", scheduler.django.fields.UTCDateTimeField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "replica",
                "db_table": "scheduler_replica",
            },
        ),
        migrations.CreateModel(
            name="Job",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=200)),
                ("task", models.CharField(max_length=255)),
                ("args", models.TextField(help_text="JSON list")),
                ("kwargs", models.TextField(help_text="JSON object")),
                ("cron", models.CharField(blank=True, max_length=255, null=True)),
                ("every_seconds", models.FloatField(blank=True, null=True)),
                ("anchor_at", scheduler.django.fields.UTCDateTimeField(blank=True, null=True)),
                ("run_at", scheduler.django.fields.UTCDateTimeField(blank=True, null=True)),
                ("timezone", models.CharField(max_length=64)),
                ("enabled", models.BooleanField()),
                ("start_at", scheduler.django.fields.UTCDateTimeField(blank=True, null=True)),
                ("end_at", scheduler.django.fields.UTCDateTimeField(blank=True, null=True)),
                (
                    "catchup",
                    models.CharField(
                        choices=[("once", "once"), ("all", "all"), ("skip", "skip")], max_length=8
                    ),
                ),
                ("max_catchup", models.IntegerField()),
                ("catchup_window_seconds", models.FloatField(blank=True, null=True)),
                (
                    "overlap",
                    models.CharField(
                        choices=[("skip", "skip"), ("allow", "allow"), ("queue", "queue")],
                        max_length=8,
                    ),
                ),
                ("jitter_seconds", models.FloatField()),
                ("timeout_seconds", models.FloatField(blank=True, null=True)),
                ("retries", models.IntegerField()),
                ("retry_backoff_seconds", models.FloatField()),
                ("retry_backoff_max_seconds", models.FloatField()),
                ("executor", models.CharField(max_length=64)),
                ("queue", models.CharField(blank=True, max_length=128, null=True)),
                ("description", models.TextField(blank=True)),
                (
                    "source",
                    models.CharField(
                        choices=[("yaml", "yaml"), ("admin", "admin"), ("code", "code")],
                        max_length=8,
                    ),
                ),
                ("definition_hash", models.CharField(max_length=64)),
                ("next_run_at", scheduler.django.fields.UTCDateTimeField(blank=True, null=True)),
                ("paused_at", scheduler.django.fields.UTCDateTimeField(blank=True, null=True)),
                ("removed_at", scheduler.django.fields.UTCDateTimeField(blank=True, null=True)),
                ("version", models.IntegerField()),
                ("created_at", scheduler.django.fields.UTCDateTimeField()),
                ("updated_at", scheduler.django.fields.UTCDateTimeField()),
            ],
            options={
                "verbose_name": "job",
                "db_table": "scheduler_job",
                "indexes": [
                    models.Index(fields=["enabled", "next_run_at"], name="scheduler_job_due_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("name",), name="scheduler_job_name_uniq")
                ],
            },
        ),
        migrations.CreateModel(
            name="Run",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "job",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="runs",
                        to="scheduler.job",
                    ),
                ),
                ("scheduled_for", scheduler.django.fields.UTCDateTimeField()),
                ("due_at", scheduler.django.fields.UTCDateTimeField()),
                ("attempt", models.IntegerField()),
                (
                    "trigger",
                    models.CharField(
                        choices=[
                            ("schedule", "schedule"),
                            ("catchup", "catchup"),
                            ("retry", "retry"),
                            ("manual", "manual"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "pending"),
                            ("queued", "queued"),
                            ("running", "running"),
                            ("succeeded", "succeeded"),
                            ("failed", "failed"),
                            ("timed_out", "timed out"),
                            ("skipped", "skipped"),
                            ("missed", "missed"),
                            ("lost", "lost"),
                            ("cancelled", "cancelled"),
                        ],
                        max_length=10,
                    ),
                ),
                ("claimed_at", scheduler.django.fields.UTCDateTimeField(blank=True, null=True)),
                ("started_at", scheduler.django.fields.UTCDateTimeField(blank=True, null=True)),
                ("finished_at", scheduler.django.fields.UTCDateTimeField(blank=True, null=True)),
                ("duration_seconds", models.FloatField(blank=True, null=True)),
                ("result", models.TextField(blank=True, help_text="JSON", null=True)),
                ("error", models.TextField(blank=True)),
                ("traceback", models.TextField(blank=True)),
                ("executor", models.CharField(blank=True, max_length=64)),
                ("external_id", models.CharField(blank=True, max_length=255)),
                ("replica_id", models.CharField(blank=True, max_length=64)),
                ("worker", models.CharField(blank=True, max_length=255)),
                (
                    "heartbeat_at",
                    scheduler.django.fields.UTCDateTimeField(blank=True, null=True),
                ),
            ],
            options={
                "verbose_name": "run",
                "db_table": "scheduler_run",
                "indexes": [
                    models.Index(fields=["status", "due_at"], name="scheduler_run_pending_idx"),
                    models.Index(fields=["job", "scheduled_for"], name="scheduler_run_history_idx"),
                    models.Index(fields=["replica_id", "status"], name="scheduler_run_replica_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("job", "scheduled_for", "attempt"), name="scheduler_run_slot_uniq"
                    )
                ],
            },
        ),
    ]
