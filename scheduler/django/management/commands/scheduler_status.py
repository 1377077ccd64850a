"""``manage.py scheduler_status``: the replicas and the latest runs; a health probe.

It mirrors ``tickwork status`` (:mod:`scheduler.cli.probe`): exit 0 when at
least one replica heartbeated within ``--stale-after`` (default
``SCHEDULER["STALE_AFTER"]``) and did not stop, 1 when none did, 2 when the
database cannot be read or the settings are wrong.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from scheduler.cli.options import positive_float, positive_int
from scheduler.cli.probe import EXIT_NONE_ALIVE, EXIT_UNKNOWN, status_json, status_text
from scheduler.clock import SystemClock
from scheduler.django.settings import scheduler_settings
from scheduler.django.status import status
from scheduler.errors import SchedulerError


class Command(BaseCommand):
    help = (
        "Show the scheduler replicas and their heartbeats, and the latest runs.  For health "
        "probes: exits 0 when a replica is alive, 1 when none has heartbeated within "
        "SCHEDULER['STALE_AFTER'] (or --stale-after), 2 when the database cannot be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--runs", type=positive_int, default=10, metavar="N", help="latest runs to show"
        )
        parser.add_argument(
            "--stale-after",
            type=positive_float,
            metavar="SECONDS",
            help="a replica silent for longer is not alive (default SCHEDULER['STALE_AFTER'])",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object instead")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = scheduler_settings()
            seconds = options["stale_after"]
            stale_after = config.stale_after if seconds is None else timedelta(seconds=seconds)
            now = SystemClock().now()
            report = status(config.database, now=now, stale_after=stale_after, runs=options["runs"])
        except (SchedulerError, ImproperlyConfigured, DatabaseError) as error:
            raise CommandError(
                f"cannot read the scheduler's state: {error}", returncode=EXIT_UNKNOWN
            ) from error
        except Exception as error:  # a probe must not pass a crash off as "none alive" (1)
            raise CommandError(
                f"cannot read the scheduler's state: {type(error).__name__}: {error}",
                returncode=EXIT_UNKNOWN,
            ) from error
        self.stdout.write(status_json(report) if options["json"] else status_text(report))
        if not report.alive:
            raise CommandError(report.verdict, returncode=EXIT_NONE_ALIVE)
        if not options["json"]:
            self.stdout.write(f"\n{report.verdict}")
