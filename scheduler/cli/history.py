"""``tickwork runs`` and ``tickwork jobs``: what a store holds, as tables."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from ..clock import SystemClock
from ..errors import SchedulerError
from ..model.runs import Run, RunStatus
from ..stores.base import Store, StoredJob
from .options import database_option, positive_int
from .overdue import overdue_by, overdue_note, span
from .standalone import opened_store
from .tables import next_run_text, render_table

__all__ = ["add_history"]

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_history(commands: Subparsers) -> None:
    """Register ``tickwork runs`` and ``tickwork jobs``."""
    _add_runs(commands)
    _add_jobs(commands)


def _add_runs(commands: Subparsers) -> None:
    sub = commands.add_parser(
        "runs",
        help="show run history, newest first",
        description="Show the run history of the scheduler's database, newest first; "
        "--id shows one run in full, with its error and traceback.",
    )
    database_option(sub)
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
    database_option(sub)
    sub.set_defaults(handler=_jobs)


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
        print(jobs_listing(store, SystemClock().now()), file=out)
    return 0


def jobs_listing(store: Store, now: datetime) -> str:
    """The jobs table of ``tickwork jobs`` at ``now``, with a note under it when
    jobs are overdue (see :mod:`.overdue`)."""
    jobs = store.list_jobs()
    if not jobs:
        return "no jobs yet"
    rows = [_job_row(store, job, now) for job in jobs]
    header = ["JOB", "SCHEDULE", "SOURCE", "STATE", "NEXT RUN", "LAST STATUS"]
    table = render_table(header, rows)
    late = sum(1 for job in jobs if overdue_by(job, now) is not None)
    note = overdue_note(late, store.list_replicas() if late else (), now)
    return table if note is None else f"{table}\n\n{note}"


def _job_row(store: Store, job: StoredJob, now: datetime) -> list[str]:
    spec = job.spec
    last = store.list_runs(job_name=spec.name, limit=1)
    late = overdue_by(job, now)
    next_run = next_run_text(job) + ("" if late is None else f" (overdue {span(late)})")
    return [
        spec.name,
        spec.describe(),
        spec.source.value,
        job.state,
        next_run,
        last[0].status.value if last else "-",
    ]
