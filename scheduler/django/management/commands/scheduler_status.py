"""``manage.py scheduler_status``: live replicas and the latest runs; exit 1 if none is alive.

Meant for health probes too: the exit status says whether any scheduler
replica heartbeated within ``SCHEDULER["STALE_AFTER"]``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scheduler.cli.options import positive_int
from scheduler.django.settings import scheduler_settings
from scheduler.django.status import replicas, replicas_table, runs_table
from scheduler.django.store import DjangoStore
from scheduler.errors import SchedulerError


class Command(BaseCommand):
    help = (
        "Show the scheduler replicas and their heartbeats, and the latest runs.  Exits 1 "
        "when no replica has heartbeated within SCHEDULER['STALE_AFTER'] (for health probes)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--runs", type=positive_int, default=10, metavar="N", help="latest runs to show"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = scheduler_settings()
            now = datetime.now(UTC)
            states = replicas(config.database, now=now, stale_after=config.stale_after)
            store = DjangoStore(using=config.database)
            self.stdout.write(replicas_table(states, now=now) if states else "no replicas yet")
            self.stdout.write("")
            self.stdout.write(runs_table(store, limit=options["runs"]))
        except (SchedulerError, ImproperlyConfigured) as error:
            raise CommandError(str(error)) from error
        alive = [state for state in states if state.alive]
        if not alive:
            seconds = config.stale_after.total_seconds()
            raise CommandError(f"no scheduler replica has heartbeated in the last {seconds:g}s")
        self.stdout.write(f"\n{len(alive)} replica{'s' if len(alive) != 1 else ''} alive")
