"""``manage.py scheduler_cancel NAME``: cancel a deferred call that has not started."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scheduler.errors import SchedulerError
from scheduler.tasks.defer import cancel_deferred


class Command(BaseCommand):
    help = (
        "Cancel a deferred call (a one-off job made by defer()) that has not started: its "
        "job is disabled and a run waiting to start is cancelled.  Exits 1, changing "
        "nothing, if it already ran, is running or was cancelled before."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", metavar="NAME", help="the deferred call's job name")
        parser.add_argument("--database", metavar="ALIAS", help="instead of SCHEDULER['DATABASE']")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = cancel_deferred(options["name"], using=options["database"])
        except (SchedulerError, ImproperlyConfigured) as error:
            raise CommandError(str(error)) from error
        if not result:
            raise CommandError(str(result))
        self.stdout.write(str(result))
