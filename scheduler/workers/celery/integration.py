"""What a Celery worker needs to run Tickwork's runs: :func:`install`.

Call it in the module that builds your Celery app, the one the worker is
started with (``celery -A proj worker``)::

    app = Celery("proj", broker="redis://localhost:6379/0")
    scheduler.workers.celery.install(app, database="postgresql://tickwork@db/tickwork")

It registers the wrapper task ``scheduler.execute_run`` (JSON arguments, late
acknowledgement, no result stored: the outcome goes to the run table) and
connects the signal handlers of :mod:`scheduler.workers.celery.tracking`.  The store
is found as :mod:`scheduler.workers.store` describes, once per worker process.
The scheduler side needs none of this: it only sends messages.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from celery import signals

from ...errors import SchedulerError, StoreUnavailable
from ...executors.celery.naming import WRAPPER_TASK
from ...tasks.registry import TaskRegistry
from ...tasks.registry import registry as default_registry
from ..heartbeats import DEFAULT_HEARTBEAT_INTERVAL, RunHeartbeat
from ..run import execute_remote_run
from ..store import ProcessStore, StoreChoice, StoreFactory, choose_store
from . import tracking

__all__ = ["CONFIG_KEY", "Integration", "install"]

logger = logging.getLogger(__name__)

#: The Celery setting naming the database, when ``install`` is given none.
CONFIG_KEY = "tickwork_database"
#: Longest wait, in seconds, before a run is tried again while the store is unreachable.
MAX_STORE_RETRY_DELAY = 60

_installed: weakref.WeakKeyDictionary[Any, Integration] = weakref.WeakKeyDictionary()
_installed_lock = threading.Lock()


@dataclass(eq=False, kw_only=True)
class Integration:
    """Tickwork installed in one Celery app: where it records, what it may run."""

    app: Any  # celery.Celery: untyped
    registry: TaskRegistry
    heartbeat_interval: float
    _factory: StoreFactory | None = None
    _database: str | None = None
    store: ProcessStore = field(init=False)
    heartbeat: RunHeartbeat = field(init=False)

    def __post_init__(self) -> None:
        self.store = ProcessStore(self.choose_store)
        self.heartbeat = RunHeartbeat(self.store.get, interval=self.heartbeat_interval)

    def choose_store(self) -> StoreChoice:
        """The worker's store, by the order of :mod:`scheduler.workers.store`."""
        database = self._database or self.app.conf.get(CONFIG_KEY) or None
        return choose_store(factory=self._factory, database=database)

    def execute_run(self, task: Any, run_id: int) -> None:
        """The body of the wrapper task (bound to ``task``): execute and record run
        ``run_id``.  A store that cannot be reached before the run started makes
        Celery deliver the message again later, backing off up to a minute."""
        try:
            execute_remote_run(
                int(run_id),
                store=self.store.get(),
                registry=self.registry,
                heartbeat=self.heartbeat,
                is_timeout=tracking.is_soft_time_limit,
            )
        except StoreUnavailable as error:
            delay = min(MAX_STORE_RETRY_DELAY, 2 ** min(task.request.retries, 6))
            logger.warning(
                "run %s not started: %s; trying again in %ss",
                run_id,
                error,
                delay,
                extra={"event": "store_unavailable", "run_id": run_id},
            )
            raise task.retry(exc=error, countdown=delay, max_retries=None) from error

    def owns(self, task: object) -> bool:
        """Whether ``task`` (a signal's sender) belongs to this integration's app."""
        return getattr(task, "app", None) is self.app


def install(
    app: Any,
    *,
    database: str | None = None,
    store_factory: StoreFactory | None = None,
    registry: TaskRegistry | None = None,
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
) -> Integration:
    """Make ``app``'s workers execute Tickwork runs and record them.

    ``database`` (a SQLAlchemy URL) or ``store_factory`` says where runs are
    recorded; without either, the Celery setting ``tickwork_database``, a
    factory registered by the Django app, or ``$TICKWORK_DATABASE`` is used.
    ``registry`` holds the tasks runs may call (default: the one ``@job``
    registers into).  ``heartbeat_interval`` is the seconds between two
    heartbeats of a running run: keep it well under half the scheduler's
    ``stale_after`` (60 s by default).

    Raises :class:`~scheduler.errors.SchedulerError` if ``app`` already has
    Tickwork installed, or an argument is not usable.
    """
    if not callable(getattr(app, "task", None)) or not hasattr(app, "conf"):
        raise SchedulerError(f"install: expected a Celery app, got {app!r}")
    if not isinstance(heartbeat_interval, int | float) or not heartbeat_interval > 0:
        raise SchedulerError(
            f"install: heartbeat_interval: expected seconds above 0, got {heartbeat_interval!r}"
        )
    integration = Integration(
        app=app,
        registry=registry if registry is not None else default_registry,
        heartbeat_interval=float(heartbeat_interval),
        _factory=store_factory,
        _database=database,
    )
    with _installed_lock:
        if app in _installed:
            raise SchedulerError(f"install: Tickwork is already installed in {app!r}")
        _installed[app] = integration
    _register_wrapper(integration)
    tracking.connect(integration)
    signals.worker_ready.connect(_announce(integration), weak=False)
    return integration


def _register_wrapper(integration: Integration) -> None:
    def execute_run(task: Any, run_id: int) -> None:
        integration.execute_run(task, run_id)

    integration.app.task(
        name=WRAPPER_TASK,
        bind=True,
        acks_late=True,  # a worker that dies before starting the run gives it back
        ignore_result=True,  # the outcome is recorded in the run table
        serializer="json",
        typing=False,
        shared=False,
    )(execute_run)


def _announce(integration: Integration) -> Any:
    def check_store(sender: object = None, **_: Any) -> None:
        try:
            choice = integration.choose_store()
        except SchedulerError as error:
            logger.error("tickwork: %s; runs sent to this worker will fail", error)
            return
        logger.info("tickwork: this worker records runs in %s", choice.origin)

    return check_store
