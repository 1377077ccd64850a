"""``manage.py scheduler_check``: validate the schedules file and show each job's next runs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scheduler.cli.options import positive_int
from scheduler.cli.tables import jobs_table
from scheduler.config.reader import read_schedules
from scheduler.config.reconcile import check_tasks
from scheduler.django.discovery import UNREGISTERED_HINT, task_registry
from scheduler.django.settings import scheduler_settings
from scheduler.errors import ConfigError
from scheduler.model.words import plural


class Command(BaseCommand):
    help = (
        "Validate the schedules file (SCHEDULER['SCHEDULES']) like `tickwork check`: print "
        "every error, located, or each job with its next runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schedules", type=Path, metavar="FILE", help="another file")
        parser.add_argument(
            "--count", type=positive_int, default=3, metavar="N", help="next runs per job"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = scheduler_settings()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        path = options["schedules"] or config.schedules
        if path is None:
            raise CommandError("no schedules file: set SCHEDULER['SCHEDULES'] or pass --schedules")
        try:
            schedules = read_schedules(path, default_timezone=config.timezone)
            check_tasks(schedules, task_registry(config.tasks), hint=UNREGISTERED_HINT)
            specs = list(schedules.jobs)
        except ConfigError as error:
            for issue in error.issues:
                self.stderr.write(str(issue))
            found = plural(len(error.issues), "error")
            raise CommandError(f"{found} found; nothing was loaded") from error
        self.stdout.write(f"{path}: {plural(len(specs), 'job')}, no errors")
        if specs:
            self.stdout.write("")
            self.stdout.write(jobs_table(specs, datetime.now(UTC), options["count"]))
