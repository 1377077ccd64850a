"""The ``tickwork`` command line (also ``python -m scheduler``).

Exit codes: 0 success; 1 invalid input (a bad schedules file, expression, zone
or instant); 2 usage error (unknown command or flag).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from .. import __version__
from ..errors import ConfigError, SchedulerError
from ..model.words import plural
from ..schedules.kinds import Cron, Every, Schedule, get_zone, upcoming
from .commands import add_commands
from .options import add_task_options, positive_int

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args, sys.stdout))
    except ConfigError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        print(f"{plural(len(error.issues), 'error')} found; nothing was loaded.", file=sys.stderr)
        return EXIT_INVALID
    except SchedulerError as error:
        print(f"tickwork: error: {error}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:
        # The reader stopped reading (`tickwork runs | head`): what it wanted,
        # not an error.  Point stdout at nothing, so the final flush is quiet too.
        _discard_stdout()
        return EXIT_OK


def _discard_stdout() -> None:
    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (captured, closed)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tickwork",
        description="Tickwork: periodic jobs with correct time zones. Inspect schedules, "
        "validate schedules files, run the scheduler and read its history.",
        epilog="Exit codes: 0 success, 1 invalid input, 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"tickwork {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_next(commands)
    _add_check(commands)
    add_commands(commands)
    return parser


def _add_next(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "next",
        help="print the next run times of a cron expression or interval",
        description="Print the next run times of a schedule, one ISO-8601 instant per line, "
        "with the offset of --tz.",
    )
    what = sub.add_mutually_exclusive_group(required=True)
    what.add_argument("expr", nargs="?", metavar="EXPR", help='cron expression, e.g. "30 2 * * *"')
    what.add_argument("--every", metavar="DURATION", help="an interval instead, e.g. 15m or 1h30m")
    sub.add_argument("--tz", default="UTC", metavar="ZONE", help="IANA time zone (default UTC)")
    sub.add_argument(
        "--after",
        metavar="ISO",
        help="start strictly after this instant (default now); read in --tz if it has no offset",
    )
    sub.add_argument(
        "--count", type=positive_int, default=5, metavar="N", help="how many (default 5)"
    )
    sub.add_argument("--name", default="", help="job name that seeds H fields")
    sub.add_argument("--anchor", metavar="ISO", help="with --every: count intervals from here")
    sub.set_defaults(handler=_run_next)


def _add_check(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "check",
        help="validate a schedules file and show each job's next runs",
        description="Validate a schedules YAML file. On success print a table of jobs with "
        "their next runs; otherwise print every error, located, and exit 1.",
    )
    sub.add_argument("file", metavar="FILE", help="the schedules YAML file")
    sub.add_argument("--count", type=positive_int, default=3, metavar="N", help="next runs per job")
    sub.add_argument("--after", metavar="ISO", help="compute next runs after this instant")
    add_task_options(sub, "also check that every task is registered: ")
    sub.set_defaults(handler=_run_check)


def _instant(text: str | None, zone_name: str, what: str) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise SchedulerError(
            f"{what} {text!r} is not an ISO-8601 instant such as 2026-03-28T12:00:00+01:00"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=get_zone(zone_name))
    return value.astimezone(UTC)


def _run_next(args: argparse.Namespace, out: TextIO) -> int:
    zone = get_zone(args.tz)
    schedule: Schedule
    if args.every is not None:
        anchor = _instant(args.anchor, args.tz, "--anchor") if args.anchor else None
        schedule = Every(args.every, anchor=anchor)
    else:
        schedule = Cron(args.expr, zone.key, hash_key=args.name)
    for instant in upcoming(schedule, _instant(args.after, args.tz, "--after"), args.count):
        print(instant.astimezone(zone).isoformat(timespec="seconds"), file=out)
    return EXIT_OK


def _run_check(args: argparse.Namespace, out: TextIO) -> int:
    from ..config.reader import read_schedules
    from .tables import jobs_table

    after = _instant(args.after, "UTC", "--after")
    schedules = read_schedules(args.file)
    if args.modules or args.allow:  # the tasks can be known: check them
        from ..config.reconcile import check_tasks
        from ..tasks.registry import registry
        from .standalone import import_task_modules

        import_task_modules(args.modules, args.pythonpath)
        for pattern in args.allow:
            registry.allow(pattern)
        check_tasks(schedules, registry)
    jobs = schedules.jobs
    print(f"{args.file}: {plural(len(jobs), 'job')}, no errors", file=out)
    if jobs:
        print(file=out)
        print(jobs_table(jobs, after, args.count), file=out)
    return EXIT_OK
