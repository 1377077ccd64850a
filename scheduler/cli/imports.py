"""``tickwork import``: jobs from another scheduler, as a schedules file.

``tickwork import apscheduler`` reads an APScheduler 3 ``SQLAlchemyJobStore``;
``tickwork import celery-beat-setting`` a ``CELERY_BEAT_SCHEDULE`` dict or a
Celery app's ``beat_schedule``.
Bad input (an unreachable database, a missing table, an unknown module) is one
line on standard error and exit status 2, with nothing written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..errors import SchedulerError
from .import_output import Destination, deliver
from .options import add_task_options

__all__ = ["add_import"]

EXIT_OK, EXIT_BAD_INPUT = 0, 2

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_import(commands: Subparsers) -> None:
    """The ``import`` command and its sources."""
    sub = commands.add_parser(
        "import",
        help="write another scheduler's jobs as a schedules file",
        description="Read the jobs of another scheduler and write them as a schedules file, "
        "or add the ones it lacks to an existing file. Prints a table of what was imported "
        "and what could not be. Exit status 2 when the source cannot be read.",
    )
    sources = sub.add_subparsers(dest="source", metavar="SOURCE", required=True)
    aps = sources.add_parser(
        "apscheduler",
        help="an APScheduler 3 SQLAlchemyJobStore",
        description="Import the jobs of an APScheduler 3 SQLAlchemyJobStore, read with "
        "APScheduler itself (pip install 'tickwork[apscheduler]'); the store is not changed. "
        "A job whose callable does not import (or, with --import/--allow, is not registered) "
        "is listed, not imported.",
    )
    aps.add_argument("--url", required=True, help="the job store's SQLAlchemy database URL")
    aps.add_argument(
        "--table", default="apscheduler_jobs", help="its table (default apscheduler_jobs)"
    )
    _common(aps)
    aps.set_defaults(handler=_run_apscheduler)
    beat = sources.add_parser(
        "celery-beat-setting",
        help="a CELERY_BEAT_SCHEDULE setting, or a Celery app's beat_schedule",
        description="Import the entries of a Celery beat schedule: crontab, solar, timedelta "
        "and number schedules.  Celery's crontab needs both day_of_month and day_of_week to "
        "match; the import keeps that meaning.",
    )
    beat.add_argument("--module", required=True, help="the dotted module that holds it")
    beat.add_argument(
        "--name",
        default="CELERY_BEAT_SCHEDULE",
        help="its name in the module (default CELERY_BEAT_SCHEDULE); a Celery app, such as "
        "'app', is read for its conf.beat_schedule and conf.timezone",
    )
    beat.add_argument(
        "--timezone",
        metavar="ZONE",
        help="the IANA zone the crontabs are read in, as Celery's timezone setting says "
        "(default: the module's CELERY_TIMEZONE or the app's conf.timezone, else UTC)",
    )
    _common(beat)
    beat.set_defaults(handler=_run_celery_setting)


def _common(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="the schedules file to write, or to add the missing jobs to (default: stdout)",
    )
    sub.add_argument("--dry-run", action="store_true", help="write nothing; print the plan")
    add_task_options(sub, "only import tasks that are registered: ")


def _run_apscheduler(args: argparse.Namespace, out: TextIO) -> int:
    from ..importers.apscheduler import SOURCE, translate
    from ..importers.apscheduler_store import read_jobs

    def run(known: Callable[[str], bool] | None, now: datetime) -> None:
        rows = read_jobs(args.url, args.table)
        translations = [translate(row, now=now, known=known) for row in rows]
        deliver(translations, SOURCE, _destination(args, out), now=now)

    return _guarded(args, run)


def _run_celery_setting(args: argparse.Namespace, out: TextIO) -> int:
    from ..importers.celery_setting import SOURCE, chosen_zone, read_setting, translate

    def run(known: Callable[[str], bool] | None, now: datetime) -> None:
        zone_given = None if args.timezone is None else chosen_zone(args.timezone)
        schedule, zone = read_setting(args.module, args.name)
        zone = zone_given or zone
        translations = [
            translate(name, spec, zone=zone, now=now, known=known)
            for name, spec in schedule.items()
        ]
        deliver(translations, SOURCE, _destination(args, out), now=now)

    return _guarded(args, run)


def _destination(args: argparse.Namespace, out: TextIO) -> Destination:
    return Destination(output=args.output, dry_run=args.dry_run, out=out, err=sys.stderr)


def _guarded(
    args: argparse.Namespace, run: Callable[[Callable[[str], bool] | None, datetime], None]
) -> int:
    """``run`` with the tasks' modules imported; a SchedulerError is exit status 2."""
    from ..tasks.registry import registry
    from .standalone import import_task_modules

    try:
        import_task_modules(args.modules, args.pythonpath)
        for pattern in args.allow:
            registry.allow(pattern)
        known = registry.is_known if (args.modules or args.allow) else None
        run(known, datetime.now(UTC))
    except SchedulerError as error:
        print(f"tickwork: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK
