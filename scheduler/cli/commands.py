"""The commands that read or change a store: run, runs, jobs, pause, resume, migrate."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

from ..clock import SystemClock
from ..config.reader import read_schedules
from ..config.reconcile import check_tasks
from ..engine.loop import Engine, EngineConfig
from ..errors import SchedulerError
from ..model.runs import Run, RunStatus
from ..stores.base import Store, StoredJob
from ..tasks.registry import registry as default_registry
from .options import (
    add_task_options,
    non_negative_float,
    optional_duration,
    positive_float,
    positive_int,
)
from .standalone import (
    DEFAULT_DATABASE,
    SchedulesFile,
    build_executors,
    connect,
    import_task_modules,
    opened_store,
)
from .tables import render_table

__all__ = ["add_commands"]

if TYPE_CHECKING:
    from sqlalchemy import Dialect

    from ..stores.sqlalchemy.upgrade import SchemaChange

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_commands(commands: Subparsers) -> None:
    """Register the commands that use a store on the ``tickwork`` parser."""
    _add_run(commands)
    _add_runs(commands)
    _add_jobs(commands)
    _add_pause(commands)
    _add_migrate(commands)


def _database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        default=os.environ.get("TICKWORK_DATABASE", DEFAULT_DATABASE),
        metavar="URL",
        help=f"SQLAlchemy URL (default $TICKWORK_DATABASE or {DEFAULT_DATABASE})",
    )


def _add_run(commands: Subparsers) -> None:
    sub = commands.add_parser(
        "run",
        help="run the scheduler",
        description="Run the scheduler on a database: reconcile the schedules file, then claim "
        "and run due jobs until stopped (SIGTERM or Ctrl-C stop it gracefully).",
    )
    _database(sub)
    sub.add_argument("--schedules", metavar="FILE", help="schedules YAML to reconcile and watch")
    sub.add_argument(
        "--executor", choices=("thread", "immediate", "celery"), default="thread",
        help="where runs execute: a thread pool here (default), inline, or Celery workers",
    )  # fmt: skip
    sub.add_argument(
        "--celery-app", default=os.environ.get("TICKWORK_CELERY_APP"), metavar="PATH",
        help="with --executor celery: dotted path of the Celery app, e.g. 'proj.celery.app' "
        "(default $TICKWORK_CELERY_APP)",
    )  # fmt: skip
    sub.add_argument(
        "--max-workers", type=positive_int, default=4, metavar="N", help="thread pool size"
    )
    sub.add_argument("--once", action="store_true", help="run what is due now, then exit")
    sub.add_argument(
        "--duration", type=positive_float, metavar="SECONDS", help="stop after this long"
    )
    add_task_options(sub)
    sub.add_argument(
        "--replica-id", metavar="ID", help="name of this replica (default host-random)"
    )
    sub.add_argument(
        "--poll-interval", type=positive_float, default=1.0, metavar="SECONDS",
        help="longest sleep between wake-ups (default 1)",
    )  # fmt: skip
    sub.add_argument(
        "--shutdown-grace", type=non_negative_float, default=30.0, metavar="SECONDS",
        help="on SIGTERM, how long running work may take to finish (default 30)",
    )  # fmt: skip
    sub.add_argument(
        "--start-timeout", type=optional_duration, default=EngineConfig().start_timeout,
        metavar="DURATION",
        help="how long a run handed to Celery may wait for a worker to start it before it "
        "is recorded lost and retried (default 1h; 'none' waits for ever)",
    )  # fmt: skip
    sub.add_argument(
        "--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"), type=str.upper
    )
    sub.set_defaults(handler=_run)


def _add_runs(commands: Subparsers) -> None:
    sub = commands.add_parser(
        "runs",
        help="show run history, newest first",
        description="Show the run history of the scheduler's database, newest first; "
        "--id shows one run in full, with its error and traceback.",
    )
    _database(sub)
    sub.add_argument("--job", metavar="NAME", help="only this job")
    sub.add_argument("--status", choices=[s.value for s in RunStatus], help="only this status")
    sub.add_argument(
        "--limit", type=positive_int, default=20, metavar="N", help="how many (default 20)"
    )
    sub.add_argument("--id", type=positive_int, metavar="RUN", help="show this run in full")
    sub.set_defaults(handler=_runs)


def _add_jobs(commands: Subparsers) -> None:
    sub = commands.add_parser(
        "jobs",
        help="list jobs with their next run and last status",
        description="List the jobs in the scheduler's database with their schedule, "
        "source, next run (in the job's zone) and the status of their last run.",
    )
    _database(sub)
    sub.set_defaults(handler=_jobs)


def _add_pause(commands: Subparsers) -> None:
    for verb, paused, words in (
        ("pause", True, "stop firing a job until it is resumed; its definition is kept"),
        ("resume", False, "let a paused job fire again, from its first slot after now"),
    ):
        sub = commands.add_parser(verb, help=words, description=words.capitalize() + ".")
        _database(sub)
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
    _database(sub)
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
    done = f"{count} change{'s' if count != 1 else ''} applied; " if count else ""
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
            print(f"{name}: {job.state}, next run {_local(job)}", file=out)
    return 0


def _local(job: StoredJob) -> str:
    """The job's next run in its own zone, or ``-`` when it has none."""
    if job.next_run_at is None:
        return "-"
    return job.next_run_at.astimezone(ZoneInfo(job.spec.timezone)).isoformat()


def _run(args: argparse.Namespace, out: TextIO) -> int:
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)-7s %(message)s"
    )
    import_task_modules(args.modules, args.pythonpath)
    for pattern in args.allow:
        default_registry.allow(pattern)
    clock = SystemClock()
    executors = build_executors(
        args.executor, max_workers=args.max_workers, clock=clock, celery_app=args.celery_app
    )
    if args.schedules:  # a bad file is refused before the database is touched
        check_tasks(read_schedules(args.schedules), default_registry, executors=executors)
    with opened_store(args.database) as store:
        hooks = []
        if args.schedules:
            schedules = SchedulesFile(
                Path(args.schedules), store, default_registry, executors=executors
            )
            schedules.sync(clock.now())
            hooks.append(schedules)
        engine = Engine(
            store,
            executors,
            clock=clock,
            replica_id=args.replica_id,
            config=EngineConfig(
                poll_interval=args.poll_interval,
                shutdown_grace=args.shutdown_grace,
                start_timeout=args.start_timeout,
            ),
            before_tick=hooks,
        )
        until = clock.now() + timedelta(seconds=args.duration) if args.duration else None
        with _stopping_on_signals(engine):
            engine.run(once=args.once, until=until)
    return 0


@contextmanager
def _stopping_on_signals(engine: Engine) -> Iterator[None]:
    """SIGTERM and SIGINT stop ``engine`` gracefully; the previous handlers come back after."""
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {signum: signal.getsignal(signum) for signum in signals}
    for signum in signals:
        signal.signal(signum, lambda *_: engine.stop())
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _runs(args: argparse.Namespace, out: TextIO) -> int:
    with opened_store(args.database, create=False) as store:
        if args.id is not None:
            return _show_run(store, args.id, out)
        status = RunStatus(args.status) if args.status else None
        if args.job:
            store.get_job(args.job)  # JobNotFound names it
        runs = store.list_runs(job_name=args.job, status=status, limit=args.limit)
    if not runs:
        print("no runs yet", file=out)
        return 0
    print(render_table(_RUN_HEADER, [_run_row(run) for run in runs]), file=out)
    return 0


_RUN_HEADER = ["ID", "JOB", "SCHEDULED FOR (UTC)", "TRY", "TRIGGER", "STATUS", "SECONDS", "ERROR"]


def _run_row(run: Run) -> list[str]:
    duration = "" if run.duration is None else f"{run.duration:.3f}"
    error = run.error.splitlines()[0] if run.error else ""
    if len(error) > 60:
        error = error[:59] + "…"
    when = run.scheduled_for.strftime("%Y-%m-%d %H:%M:%S")
    return [
        str(run.id),
        run.job_name,
        when,
        str(run.attempt),
        run.trigger.value,
        run.status.value,
        duration,
        error,
    ]


def _show_run(store: Store, run_id: int, out: TextIO) -> int:
    try:
        run = store.get_run(run_id)
    except LookupError:
        raise SchedulerError(f"no run has id {run_id}") from None
    fields = [
        ("run", str(run.id)),
        ("job", run.job_name),
        ("scheduled for", run.scheduled_for.isoformat()),
        ("attempt", str(run.attempt)),
        ("trigger", run.trigger.value),
        ("status", run.status.value),
        ("started", run.started_at.isoformat() if run.started_at else "-"),
        ("finished", run.finished_at.isoformat() if run.finished_at else "-"),
        ("seconds", "-" if run.duration is None else f"{run.duration:.3f}"),
        ("executor", run.executor or "-"),
        ("replica", run.replica_id or "-"),
        ("worker", run.worker or "-"),
        ("result", json.dumps(run.result)),
        ("error", run.error or "-"),
    ]
    for name, value in fields:
        print(f"{name:>13}: {value}", file=out)
    if run.traceback:
        print(f"\n{run.traceback.rstrip()}", file=out)
    return 0


def _jobs(args: argparse.Namespace, out: TextIO) -> int:
    with opened_store(args.database, create=False) as store:
        jobs = store.list_jobs()
        rows = [_job_row(store, job) for job in jobs]
    if not rows:
        print("no jobs yet", file=out)
        return 0
    header = ["JOB", "SCHEDULE", "SOURCE", "STATE", "NEXT RUN", "LAST STATUS"]
    print(render_table(header, rows), file=out)
    return 0


def _job_row(store: Store, job: StoredJob) -> list[str]:
    spec = job.spec
    last = store.list_runs(job_name=spec.name, limit=1)
    return [
        spec.name,
        spec.describe(),
        spec.source.value,
        job.state,
        _local(job),
        last[0].status.value if last else "-",
    ]
