"""``manage.py scheduler_prune``: delete old run history now (the scheduler also does, hourly)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scheduler.django.settings import scheduler_settings
from scheduler.django.store import DjangoStore
from scheduler.errors import SchedulerError
from scheduler.model.words import plural
from scheduler.schedules.durations import parse_duration


class Command(BaseCommand):
    help = (
        "Delete finished runs beyond the newest KEEP_LAST per job or older than MAX_AGE "
        "(default: SCHEDULER['HISTORY']).  Runs still pending, queued or running are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--keep-last", type=int, metavar="N", help="runs to keep per job")
        parser.add_argument("--max-age", metavar="DURATION", help="such as 30d or 12h")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = scheduler_settings()
            keep_last = config.keep_last if options["keep_last"] is None else options["keep_last"]
            max_age = config.max_age
            if options["max_age"] is not None:
                max_age = parse_duration(options["max_age"])
            if keep_last is not None and keep_last < 0:
                raise CommandError(f"--keep-last must be 0 or more, got {keep_last}")
            store = DjangoStore(using=config.database)
            deleted = store.prune(now=datetime.now(UTC), keep_last=keep_last, max_age=max_age)
        except (SchedulerError, ImproperlyConfigured) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"deleted {plural(deleted, 'run')}")
