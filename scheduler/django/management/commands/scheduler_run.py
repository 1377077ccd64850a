"""``manage.py scheduler_run JOB``: queue a run of JOB now, for the scheduler to start."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scheduler.django.settings import scheduler_settings
from scheduler.django.store import DjangoStore
from scheduler.errors import SchedulerError
from scheduler.model.runs import NewRun, Trigger


class Command(BaseCommand):
    help = (
        "Queue a manual run of a job: a pending run that the running scheduler hands to the "
        "job's executor within a second.  Nothing is executed by this command."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job", metavar="JOB", help="the job's name")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            store = DjangoStore(using=scheduler_settings().database)
            now = datetime.now(UTC)
            run = store.add_run(
                options["job"], NewRun(scheduled_for=now, due_at=now, trigger=Trigger.MANUAL)
            )
        except (SchedulerError, ImproperlyConfigured) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"queued run {run.id} of {run.job_name}; a running scheduler starts it within a second"
        )
