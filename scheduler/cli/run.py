"""``tickwork run``: the scheduler without Django, on a database URL and a schedules file."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..clock import SystemClock
from ..config.reader import read_schedules
from ..config.reconcile import SchedulesFile, check_tasks
from ..engine.loop import Engine, EngineConfig
from ..engine.signals import ForcedStop, stopped_by_signals
from ..executors.base import Executor
from ..monitoring.address import MetricsServerError
from ..monitoring.logs import LOG_FORMATS, log_formatter
from ..monitoring.sentry_setup import SentryCronsError, check_sentry_jobs, setup_sentry_crons
from ..monitoring.serving import Wiring
from ..stores.base import Store
from ..tasks.registry import registry as default_registry
from .metrics import add_metrics_options, metrics_for
from .notify import check_notify_names, installed, webhook_notifiers
from .options import (
    add_task_options,
    database_option,
    non_negative_float,
    optional_duration,
    positive_float,
    positive_int,
)
from .progress import schedules_progress
from .standalone import build_executors, import_task_modules, opened_store

__all__ = ["add_run"]

EXIT_USAGE = 2  # as scheduler.cli.main's: a configuration refused at start
_HEARTBEAT = EngineConfig().heartbeat_interval.total_seconds()
_MIN_STALE_AFTER = 2 * _HEARTBEAT

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_run(commands: Subparsers) -> None:
    """Register ``tickwork run``."""
    sub = commands.add_parser(
        "run",
        help="run the scheduler",
        description="Run the scheduler on a database: reconcile the schedules file, then claim "
        "and run due jobs until stopped (SIGTERM or Ctrl-C stop it gracefully; a second "
        "one stops it at once).",
    )
    database_option(sub)
    sub.add_argument("--schedules", metavar="FILE", help="schedules YAML to reconcile and watch")
    sub.add_argument(
        "--executor", choices=("thread", "immediate", "celery", "process", "asyncio"),
        default="thread",
        help="where runs execute: a thread pool here (default), inline, Celery workers, "
        "child processes that timeouts really stop, or one asyncio event loop",
    )  # fmt: skip
    sub.add_argument(
        "--celery-app", default=os.environ.get("TICKWORK_CELERY_APP"), metavar="PATH",
        help="with --executor celery: dotted path of the Celery app, e.g. 'proj.celery.app' "
        "(default $TICKWORK_CELERY_APP)",
    )  # fmt: skip
    sub.add_argument(
        "--max-workers", type=positive_int, default=4, metavar="N",
        help="thread pool size, or child processes with --executor process",
    )  # fmt: skip
    sub.add_argument(
        "--max-concurrency", type=positive_int, default=100, metavar="N",
        help="with --executor asyncio: how many runs at once (default 100)",
    )  # fmt: skip
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
        help="on SIGTERM or Ctrl-C, how long running work may take to finish (default 30); "
        "a second signal stops it at once",
    )  # fmt: skip
    sub.add_argument(
        "--group-commit", type=non_negative_float, default=EngineConfig().group_commit,
        metavar="SECONDS",
        help="longest a run's end waits to be written with others (default 0.05; "
        "0 writes each start and end in its own transaction)",
    )  # fmt: skip
    sub.add_argument(
        "--start-timeout", type=optional_duration, default=EngineConfig().start_timeout,
        metavar="DURATION",
        help="how long a run handed to Celery may wait for a worker to start it before it "
        "is recorded lost and retried (default 1h; 'none' waits for ever)",
    )  # fmt: skip
    sub.add_argument(
        "--stale-after", type=stale_after_seconds,
        default=EngineConfig().stale_after.total_seconds(), metavar="SECONDS",
        help="how long a replica or an outside worker may go without a heartbeat before its "
        "runs are recovered (default 60, as SCHEDULER['STALE_AFTER']); above "
        f"{_MIN_STALE_AFTER:g}, twice the heartbeat interval",
    )  # fmt: skip
    _add_operations_options(sub)
    sub.set_defaults(handler=_run)


def stale_after_seconds(text: str) -> float:
    """argparse type for ``--stale-after``: seconds above twice the heartbeat
    interval, or a live replica would look dead between two heartbeats."""
    value = positive_float(text)
    if value <= _MIN_STALE_AFTER:
        raise argparse.ArgumentTypeError(
            f"expected more than {_MIN_STALE_AFTER:g} seconds (twice the "
            f"{_HEARTBEAT:g}s heartbeat interval, or live replicas look dead), got {text}"
        )
    return value


def _add_operations_options(sub: argparse.ArgumentParser) -> None:
    """What an operator watches it through: metrics, alerts, Sentry Crons, logs."""
    add_metrics_options(sub)
    sub.add_argument(
        "--notify-webhook", action="append", default=[], metavar="URL",
        help="POST a JSON notification of every failed, timed-out, lost or missed run to URL "
        "(repeatable; notifiers named webhook, webhook-2, ...)",
    )  # fmt: skip
    sub.add_argument(
        "--sentry-crons", action="store_true",
        help="send Sentry Crons check-ins for every run, initialising Sentry from $SENTRY_DSN "
        "(without it, check-ins are sent when an imported module initialised Sentry)",
    )  # fmt: skip
    sub.add_argument(
        "--sentry-crons-exclude", action="append", default=[], metavar="PATTERN",
        help="job-name pattern (fnmatch) whose runs send no check-ins; repeatable",
    )  # fmt: skip
    sub.add_argument(
        "--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"), type=str.upper
    )
    sub.add_argument(
        "--log-format", default="text", choices=LOG_FORMATS,
        help="text (default) or json: one JSON object per line (docs/reference/logs.md)",
    )  # fmt: skip


def _run(args: argparse.Namespace, out: TextIO) -> int:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(log_formatter(args.log_format))
    logging.basicConfig(level=args.log_level, handlers=[handler])
    import_task_modules(args.modules, args.pythonpath)
    for pattern in args.allow:
        default_registry.allow(pattern)
    try:
        setup_sentry_crons(args.sentry_crons or None, exclude=args.sentry_crons_exclude)
    except SentryCronsError as error:  # refused before anything is claimed
        print(f"tickwork: error: --sentry-crons: {error}", file=sys.stderr)
        return EXIT_USAGE
    clock = SystemClock()
    executors = build_executors(
        args.executor,
        max_workers=args.max_workers,
        clock=clock,
        celery_app=args.celery_app,
        max_concurrency=args.max_concurrency,
    )
    notifiers = webhook_notifiers(args.notify_webhook)
    if args.schedules:  # a bad file is refused before the database is touched
        loaded = read_schedules(args.schedules)
        check_tasks(loaded, default_registry, executors=executors)
        check_notify_names(loaded, notifiers)
    config = EngineConfig(
        poll_interval=args.poll_interval,
        shutdown_grace=args.shutdown_grace,
        start_timeout=args.start_timeout,
        group_commit=args.group_commit,
        stale_after=timedelta(seconds=args.stale_after),
    )
    with opened_store(args.database) as store, installed(notifiers):
        try:  # bound before anything is claimed: a port in use stops it here
            metrics = metrics_for(args, store, clock=clock, config=config)
        except MetricsServerError as error:
            print(f"tickwork: error: {error}", file=sys.stderr)
            return EXIT_USAGE
        with metrics.serving():
            try:
                _schedule(args, store, executors, clock, config, metrics)
            except ForcedStop as stopped:
                print(f"tickwork: {stopped}", file=sys.stderr)
                return stopped.exit_status
    return 0


def _schedule(
    args: argparse.Namespace,
    store: Store,
    executors: dict[str, Executor],
    clock: SystemClock,
    config: EngineConfig,
    metrics: Wiring,
) -> None:
    """Reconcile the schedules file, then run the engine until stopped."""
    hooks = []
    if args.schedules:
        path = Path(args.schedules)
        progress = schedules_progress(path, sys.stderr)
        schedules = SchedulesFile(
            path, store, default_registry, executors=executors, progress=progress
        )
        try:
            schedules.sync(clock.now())
        finally:
            progress.close()
            schedules.progress = None  # later reconciles are logged, not shown
        hooks.append(schedules)
    check_sentry_jobs(lambda: [stored.spec for stored in store.list_jobs()])
    engine = Engine(
        store,
        executors,
        clock=clock,
        replica_id=args.replica_id,
        config=config,
        before_tick=hooks,
        after_tick=metrics.after_tick,
    )
    metrics.wake_with(engine.wake)
    until = clock.now() + timedelta(seconds=args.duration) if args.duration else None
    with stopped_by_signals(engine):
        engine.run(once=args.once, until=until)
