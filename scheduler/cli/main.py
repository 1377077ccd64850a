"""The ``tickwork`` command line (also ``python -m scheduler``).

Exit codes: 0 success; 1 invalid input (a bad schedules file, expression, zone
or instant); 2 usage error (unknown command or flag).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from .. import __version__
from ..errors import ConfigError, SchedulerError
from ..model.jobs import JobSpec
from ..model.words import plural
from ..schedules.kinds import Cron, Every, upcoming
from .commands import add_commands
from .next_runs import add_next, explain_calendar, instant_arg
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
    add_next(commands)
    _add_check(commands)
    add_commands(commands)
    return parser


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
    sub.add_argument(
        "--explain",
        action="store_true",
        help="also list, per job with a calendar, the slots it leaves out or moves, and why",
    )
    add_task_options(sub, "also check that every task is registered: ")
    sub.set_defaults(handler=_run_check)


def _run_check(args: argparse.Namespace, out: TextIO) -> int:
    from ..config.reader import read_schedules
    from .tables import jobs_table

    after = instant_arg(args.after, "UTC", "--after")
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
    if args.explain:
        _explain_jobs(jobs, after, args.count, out)
    return EXIT_OK


def _explain_jobs(jobs: Sequence[JobSpec], after: datetime, count: int, out: TextIO) -> None:
    for job in sorted(jobs, key=lambda j: j.name):
        if job.calendar.is_default or not isinstance(job.schedule, Cron | Every):
            continue
        runs = list(upcoming(job, after, count))
        print(f"\n{job.name}: {job.calendar.describe()}", file=out, end="")
        explain_calendar(job.schedule, job.calendar, job.timezone, after, runs, out)
