"""``manage.py scheduler_import_background_tasks``: django-background-tasks' pending tasks."""

from __future__ import annotations

import importlib
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.utils.connection import ConnectionDoesNotExist

from scheduler.cli.import_output import Destination, deliver, table
from scheduler.django.background_tasks import defer_calls, refuse_unregistered
from scheduler.django.discovery import task_registry
from scheduler.django.settings import scheduler_settings
from scheduler.django.store import DjangoStore
from scheduler.errors import ImportSourceError
from scheduler.importers.background_tasks import SOURCE, is_deferred_call, translate
from scheduler.importers.merge import Merge


class Command(BaseCommand):
    help = (
        "Turn django-background-tasks' pending tasks into Tickwork's: a one-off task "
        "becomes a deferred call in the scheduler's database, a repeating task a job in "
        "a schedules file (--output, or stdout).  Tasks must be registered.  Importing "
        "twice changes nothing; django-background-tasks' tables are not changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", type=Path, metavar="FILE", help="the schedules file for repeating tasks"
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            metavar="ALIAS",
            help="where django-background-tasks' tables are (default: 'default')",
        )
        parser.add_argument("--dry-run", action="store_true", help="write nothing; show the plan")

    def handle(self, *args: Any, **options: Any) -> None:
        now = datetime.now(UTC)
        rows = self._rows(options["database"])
        config = scheduler_settings()
        translations = [translate(row, now=now) for row in rows]
        refuse_unregistered(translations, task_registry(config.tasks))
        calls = [found for found in translations if is_deferred_call(found)]
        jobs = [found for found in translations if not is_deferred_call(found)]
        self._jobs(jobs, options, now)  # first: a file that cannot take them stops it all
        store = DjangoStore(using=config.database)
        try:
            deferred = defer_calls(
                calls,
                store=store,
                using=config.database,
                timezone=config.timezone,
                now=now,
                dry_run=options["dry_run"],
            )
        finally:
            store.dispose()
        done = Merge(added=deferred.added, unchanged=deferred.unchanged)
        if calls:
            self.stdout.write(table(calls, done, None))
            verb = "to write" if options["dry_run"] else "written"
            self.stdout.write(
                f"{len(deferred.added)} deferred calls {verb}, "
                f"{len(deferred.unchanged)} already in the database.\n"
            )

    def _rows(self, database: str) -> list[Any]:
        try:
            models = importlib.import_module("background_task.models")
        except ImportError as error:
            raise CommandError(
                "django-background-tasks is not installed: there is nothing to import",
                returncode=2,
            ) from error
        try:
            return list(models.Task.objects.using(database).order_by("pk"))
        except (DatabaseError, ConnectionDoesNotExist) as error:
            reason = " ".join(str(error).split())
            raise CommandError(
                f"cannot read django-background-tasks' tasks in the database {database!r}: "
                f"{reason}",
                returncode=2,
            ) from error

    def _jobs(self, jobs: list[Any], options: dict[str, Any], now: datetime) -> None:
        if not jobs:
            return
        out, err = io.StringIO(), io.StringIO()
        to = Destination(output=options["output"], dry_run=options["dry_run"], out=out, err=err)
        try:
            deliver(jobs, SOURCE, to, now=now)
        except ImportSourceError as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(out.getvalue(), ending="")
        self.stderr.write(err.getvalue(), ending="")
