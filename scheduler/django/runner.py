"""Build and run the scheduler of a Django site from its settings.

The management commands only parse their options and call these functions:
the store on ``SCHEDULER["DATABASE"]``, the executors of
``SCHEDULER["EXECUTORS"]``, the discovered task registry, and the schedules file
reconciled at start and whenever it changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..clock import Clock, SystemClock
from ..config.reconcile import SchedulesFile
from ..engine.loop import Engine, TickReport
from ..engine.signals import stopped_by_signals
from ..executors.base import Executor, ExecutorConfigError, build_executor
from ..monitoring.sentry_setup import check_sentry_jobs
from ..monitoring.serving import Wiring, metrics_endpoint
from ..tasks.registry import TaskRegistry
from .discovery import UNREGISTERED_HINT, task_registry
from .notifications import flush_site_notifiers, install_site_notifiers
from .settings import SchedulerSettings, scheduler_settings
from .store import DjangoStore

__all__ = ["SHORTHAND_EXECUTORS", "RunOptions", "build_executors", "run", "schedules_file"]

logger = logging.getLogger(__name__)

#: How long a stopping scheduler waits for queued notifications to be sent.
NOTIFY_DRAIN_SECONDS = 5.0

#: ``--executor`` also accepts these names when EXECUTORS does not configure them.
SHORTHAND_EXECUTORS: dict[str, dict[str, Any]] = {
    "immediate": {"BACKEND": "scheduler.executors.immediate.ImmediateExecutor"},
    "thread": {"BACKEND": "scheduler.executors.thread.ThreadExecutor"},
    # Children set Django up before their first run, so tasks can use the ORM.
    "process": {
        "BACKEND": "scheduler.executors.process.ProcessExecutor",
        "OPTIONS": {"initializer": "django.setup"},
    },
    "asyncio": {"BACKEND": "scheduler.executors.aio.AsyncioExecutor"},
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """What ``manage.py run_scheduler`` was asked for; ``None`` means "from settings"."""

    once: bool = False
    executor: str | None = None
    schedules: Path | None = None
    replica_id: str | None = None
    duration: float | None = None
    metrics_port: int | None = None  # over SCHEDULER["METRICS"]["PORT"]
    metrics_host: str | None = None


def build_executors(
    configured: Mapping[str, Mapping[str, Any]], *, clock: Clock, only: str | None = None
) -> dict[str, Executor]:
    """The executors of ``SCHEDULER["EXECUTORS"]``, by name.

    With ``only``, that one executor is built and every configured name maps
    to it: each run goes to it, whatever its job names (``--executor``).
    Raises :class:`~scheduler.executors.base.ExecutorConfigError` naming the entry.
    """
    if only is None:
        return {
            name: build_executor(name, entry, clock=clock) for name, entry in configured.items()
        }
    entry = configured.get(only) or SHORTHAND_EXECUTORS.get(only)
    if entry is None:
        known = ", ".join(sorted({*configured, *SHORTHAND_EXECUTORS}))
        raise ExecutorConfigError(f"no executor named {only!r}; choose one of: {known}")
    executor = build_executor(only, entry, clock=clock)
    return dict.fromkeys({*configured, only}, executor)


def schedules_file(
    path: Path, store: DjangoStore, registry: TaskRegistry, *, timezone: str = "UTC"
) -> SchedulesFile:
    """The schedules file at ``path``, to reconcile into ``store``; jobs of a
    file without a top-level ``timezone`` are read in ``timezone``."""
    return SchedulesFile(path, store, registry, hint=UNREGISTERED_HINT, default_timezone=timezone)


def run(options: RunOptions, *, clock: Clock | None = None) -> Engine:
    """Run the scheduler until stopped (SIGTERM, SIGINT), once, or for a while.

    The schedules file is reconciled first; a bad one raises
    :class:`~scheduler.errors.ConfigError` and nothing runs.  Returns the
    stopped engine (tests read its store).  A second stop signal cuts the
    shutdown grace short and raises
    :class:`~scheduler.engine.signals.ForcedStop` once the engine has closed.
    """
    clock = clock or SystemClock()
    config = scheduler_settings()
    install_site_notifiers()  # refuses bad NOTIFIERS before anything runs
    store = DjangoStore(using=config.database)
    try:
        store.check_database()
        metrics = _metrics(config, options, store, clock)  # a port in use stops it here
        with metrics.serving():
            engine = _engine(config, options, store, clock, after_tick=metrics.after_tick)
            metrics.wake_with(engine.wake)
            with stopped_by_signals(engine):
                until = None
                if options.duration is not None:
                    until = clock.now() + timedelta(seconds=options.duration)
                engine.run(once=options.once, until=until)
        return engine
    finally:
        flush_site_notifiers(NOTIFY_DRAIN_SECONDS)
        store.dispose()


def _metrics(
    config: SchedulerSettings, options: RunOptions, store: DjangoStore, clock: Clock
) -> Wiring:
    """The endpoint of ``--metrics-port`` or ``SCHEDULER["METRICS"]``, bound now (or none)."""
    port = options.metrics_port if options.metrics_port is not None else config.metrics_port
    if port is None:
        return Wiring(None)
    endpoint = metrics_endpoint(
        store,
        port=port,
        host=options.metrics_host or config.metrics_host,
        clock=clock,
        heartbeat_interval=config.heartbeat_interval,
        poll_interval=config.poll_interval,
    )
    return Wiring(endpoint)


def _engine(
    config: SchedulerSettings,
    options: RunOptions,
    store: DjangoStore,
    clock: Clock,
    *,
    after_tick: Sequence[Callable[[TickReport], object]] = (),
) -> Engine:
    registry = task_registry(config.tasks)
    hooks = []
    path = options.schedules or config.schedules
    if path is not None:
        schedules = schedules_file(path, store, registry, timezone=config.timezone)
        schedules.sync(clock.now())
        hooks.append(schedules)
    else:
        logger.info("no schedules file (SCHEDULER['SCHEDULES']): running the jobs in the database")
    executors = build_executors(config.executors, clock=clock, only=options.executor)
    # The app registered the Sentry Crons check-ins when ready; say what they cannot cover.
    check_sentry_jobs(lambda: [stored.spec for stored in store.list_jobs()])
    return Engine(
        store,
        executors,
        registry=registry,
        clock=clock,
        replica_id=options.replica_id,
        config=config.engine_config(),
        before_tick=hooks,
        after_tick=after_tick,
    )
