"""``tickwork pause``, ``resume`` and ``migrate``: changing a job's state, or the schema."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from ..clock import SystemClock
from ..model.words import plural
from .options import database_option
from .standalone import connect, opened_store
from .tables import next_run_text

__all__ = ["add_maintenance"]

if TYPE_CHECKING:
    from sqlalchemy import Dialect

    from ..stores.sqlalchemy.upgrade import SchemaChange

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_maintenance(commands: Subparsers) -> None:
    """Register ``tickwork pause``, ``resume`` and ``migrate``."""
    _add_pause(commands)
    _add_migrate(commands)


def _add_pause(commands: Subparsers) -> None:
    for verb, paused, words in (
        ("pause", True, "stop firing a job until it is resumed; its definition is kept"),
        ("resume", False, "let a paused job fire again, from its first slot after now"),
    ):
        sub = commands.add_parser(verb, help=words, description=words.capitalize() + ".")
        database_option(sub)
        sub.add_argument("names", nargs="+", metavar="JOB", help="job name (repeatable)")
        sub.set_defaults(handler=_pause, paused=paused)


def _add_migrate(commands: Subparsers) -> None:
    sub = commands.add_parser(
        "migrate",
        help="bring a database made by an earlier version up to date",
        description="Add what this version of Tickwork needs to a database made by an earlier "
        "one: missing tables, columns and indexes. Only additive changes; nothing is dropped. "
        "A database managed by Django is migrated with Django's migrate command instead.",
    )
    database_option(sub)
    sub.add_argument(
        "--sql", action="store_true", help="print the SQL that would run, and change nothing"
    )
    sub.set_defaults(handler=_migrate)


def _migrate(args: argparse.Namespace, out: TextIO) -> int:
    store = connect(args.database, must_exist=args.sql)
    try:
        if args.sql:
            _print_sql(store.schema_changes(), store.engine.dialect, out)
            return 0
        changes = store.create_schema()
    finally:
        store.dispose()
    for change in changes:
        print(change.description, file=out)
    count = len(changes)
    done = f"{plural(count, 'change')} applied; " if count else ""
    print(f"{done}the database is up to date", file=out)
    return 0


def _print_sql(changes: Sequence[SchemaChange], dialect: Dialect, out: TextIO) -> None:
    if not changes:
        print("-- the database is up to date: nothing to do", file=out)
    for change in changes:
        print(f"-- {change.description}\n{change.sql(dialect)};\n", file=out)


def _pause(args: argparse.Namespace, out: TextIO) -> int:
    clock = SystemClock()
    with opened_store(args.database, create=False) as store:
        for name in args.names:
            store.get_job(name)  # all names checked before anything changes
        for name in args.names:
            job = store.set_paused(name, args.paused, now=clock.now())
            print(f"{name}: {job.state}, next run {next_run_text(job)}", file=out)
    return 0
