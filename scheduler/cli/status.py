"""``tickwork status``: is a scheduler replica alive on this database?  A probe for operators.

It mirrors ``manage.py scheduler_status``: the same tables or JSON
(:mod:`.probe`), the same options, the same exit codes: 0 when at least one
replica is alive, 1 when none is (or none ever heartbeated), 2 when the
database cannot be read (or the command line is wrong).
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, TextIO

from ..clock import SystemClock
from ..engine.settings import EngineConfig
from ..errors import SchedulerError
from .options import database_option, positive_float, positive_int
from .probe import EXIT_UNKNOWN, read_status, status_json, status_text
from .standalone import opened_store

__all__ = ["add_status"]

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

_DEFAULT_STALE_AFTER = EngineConfig().stale_after.total_seconds()


def add_status(commands: Subparsers) -> None:
    """Register ``tickwork status``."""
    sub = commands.add_parser(
        "status",
        help="show the scheduler replicas and the latest runs; exit 1 if none is alive",
        description="Show each scheduler replica of the database with its state (alive, "
        "stopped or silent) and last heartbeat, then the latest runs.  For health probes: "
        "exits 0 when at least one replica is alive, 1 when none is, 2 when the database "
        "cannot be read.",
    )
    database_option(sub)
    sub.add_argument(
        "--stale-after", type=positive_float, default=_DEFAULT_STALE_AFTER, metavar="SECONDS",
        help="a replica silent for longer is not alive "
        f"(default {_DEFAULT_STALE_AFTER:g}, the scheduler's own)",
    )  # fmt: skip
    sub.add_argument(
        "--runs", type=positive_int, default=10, metavar="N", help="latest runs to show"
    )
    sub.add_argument("--json", action="store_true", help="print one JSON object instead")
    sub.set_defaults(handler=_status)


def _status(args: argparse.Namespace, out: TextIO) -> int:
    stale_after = timedelta(seconds=args.stale_after)
    try:
        with opened_store(args.database, create=False) as store:
            now = SystemClock().now()
            status = read_status(store, now=now, stale_after=stale_after, runs=args.runs)
    except Exception as error:  # a probe must not pass a crash off as "none alive" (1)
        why = error if isinstance(error, SchedulerError) else f"{type(error).__name__}: {error}"
        print(f"tickwork status: cannot read the scheduler's state: {why}", file=sys.stderr)
        return EXIT_UNKNOWN
    print(status_json(status) if args.json else status_text(status), file=out)
    if status.alive:
        if not args.json:
            print(f"\n{status.verdict}", file=out)
    else:
        print(f"tickwork status: {status.verdict}", file=sys.stderr)
    return status.exit_code
