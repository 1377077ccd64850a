"""Hand runs to Celery workers: the scheduler side of Tickwork on Celery.

``submit`` publishes one message and returns; the worker does the rest (see
:mod:`scheduler.workers.celery`, which the worker's app must install).  What is sent:

* for a **registered task**, the wrapper task ``scheduler.execute_run`` with
  the run id as its only argument: the worker loads the run, checks that it
  was not already started (a duplicate delivery is dropped), calls the task
  through its own registry and records the outcome;
* for a **plain Celery task name** (a task the configured app knows, not
  registered with Tickwork), that task with the job's ``args`` and
  ``kwargs``; the worker's signal handlers record what Celery reports.

Every message is JSON, its task id is ``tickwork-run-<run id>``, and it goes
to the job's ``queue`` (else the executor's ``queue`` option, else Celery's
routing) with the executor's ``priority``.  A job's ``timeout`` becomes the
soft time limit, and the hard limit ``kill_after`` seconds later.  Its
``catchup_window``, counted from the run's due time, bounds how long the
message may wait for a worker: the wrapper checks it and records the run
``cancelled`` instead of running it late (it is not left to the broker's
message expiry, which RabbitMQ enforces by dropping the message unseen).  A
plain Celery task gets the window as Celery's ``expires``.

When the broker cannot be reached, ``submit`` raises: the engine records the
run ``failed`` and the job's retry policy applies.  After one failure the
executor stops trying for ``broker_retry_after`` seconds and fails the
following runs at once, so a wake-up with thousands of due runs does not
spend a connection timeout on each.
"""

from __future__ import annotations

import importlib
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from kombu.exceptions import OperationalError

from ...clock import Clock
from ...errors import SchedulerError
from ...model.runs import ClaimedRun
from ...tasks.registry import RegisteredTask
from ..base import (
    ExecutorCapabilities,
    ExecutorClosed,
    ExecutorConfigError,
    RunReporter,
    clock_option,
)
from .naming import WRAPPER_TASK, task_id_of

__all__ = ["BrokerUnavailable", "CeleryExecutor"]

logger = logging.getLogger(__name__)

# Celery's own tasks (chords, maps, result cleanup) are machinery, not jobs.
_RESERVED_PREFIX = "celery."


class BrokerUnavailable(SchedulerError, ConnectionError):
    """The Celery broker could not be reached; the run was not sent."""


class _SentByName:
    """The stand-in ``func`` of a plain Celery task: it is sent, never called here."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.__name__ = name.rsplit(".", 1)[-1]
        self.__qualname__ = self.__name__

    def __call__(self, *args: object, **kwargs: object) -> None:
        raise SchedulerError(f"Celery task {self.name!r} runs on a worker, not in the scheduler")


class CeleryExecutor:
    """Sends each run to Celery workers; see the module docstring for what is sent."""

    name = "celery"
    capabilities = ExecutorCapabilities(
        enforces_timeout=True, supports_queue=True, supports_priority=True
    )

    def __init__(
        self,
        *,
        app: Any,
        clock: Clock | None = None,
        queue: str | None = None,
        priority: int | None = None,
        kill_after: float = 10.0,
        broker_retry_after: float = 5.0,
    ) -> None:
        self._clock = clock_option(clock)
        self.app = _app_option(app)
        self._queue = _queue_option(queue)
        self._priority = _priority_option(priority)
        self._kill_after = _seconds_option("kill_after", kill_after)
        self._retry_after = _seconds_option("broker_retry_after", broker_retry_after)
        self._lock = threading.Lock()
        self._producer: Any = None
        self._broker_down_until = datetime.min.replace(tzinfo=UTC)
        self._closed = False
        self._modules_imported = False

    # -- Executor ---------------------------------------------------------------
    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        """Publish the run's message; return its Celery task id.

        Raises :class:`~scheduler.executors.base.ExecutorClosed` after
        :meth:`shutdown`, and :class:`BrokerUnavailable` when the broker cannot
        be reached (or could not be, less than ``broker_retry_after`` ago).
        """
        run_id = claimed.run.id
        task_id = task_id_of(run_id)
        options = self._options(claimed)
        if isinstance(task.func, _SentByName):
            name, args, kwargs = task.name, list(claimed.job.args), dict(claimed.job.kwargs)
            if claimed.job.policy.catchup_window is not None:  # the wrapper checks this itself
                options["expires"] = claimed.run.due_at + claimed.job.policy.catchup_window
        else:
            name, args, kwargs = WRAPPER_TASK, [run_id], {}
        with self._lock:
            if self._closed:
                raise ExecutorClosed(f"celery executor is shut down; run {run_id} not sent")
            self._check_broker(run_id)
            try:
                self.app.send_task(
                    name, args=args, kwargs=kwargs, task_id=task_id, producer=self._producer_(),
                    serializer="json", **options,
                )  # fmt: skip
            except (OperationalError, OSError) as error:
                self._broker_failed()
                raise BrokerUnavailable(f"Celery broker unavailable: {error}") from error
        return task_id

    def shutdown(self, *, wait: bool, timeout: float | None) -> list[int]:
        """Stop sending.  Sent runs belong to the workers: none is reported here."""
        with self._lock:
            self._closed = True
            self._release_producer()
        return []

    def active_count(self) -> int:
        """Always 0: nothing runs in this process once a message is sent."""
        return 0

    def capacity(self) -> None:
        """No limit here: the broker queues what the workers have not taken yet."""
        return None

    # -- NamedTaskSender --------------------------------------------------------
    def named_task(self, name: str) -> RegisteredTask | None:
        """A stand-in for the Celery task ``name`` if the configured app knows it.

        Celery's own tasks (``celery.*``) and the wrapper are refused: a job
        may name the app's tasks, not its machinery.
        """
        if name == WRAPPER_TASK or name.startswith(_RESERVED_PREFIX):
            return None
        self._import_task_modules()
        if name not in self.app.tasks:
            return None
        return RegisteredTask(name=name, func=_SentByName(name))

    # -- internals ----------------------------------------------------------------
    def _options(self, claimed: ClaimedRun) -> dict[str, Any]:
        job = claimed.job
        options: dict[str, Any] = {}
        queue = job.queue or self._queue
        if queue is not None:
            options["queue"] = queue
        if self._priority is not None:
            options["priority"] = self._priority
        if job.policy.timeout is not None:
            soft = job.policy.timeout.total_seconds()
            options["soft_time_limit"] = soft
            options["time_limit"] = soft + self._kill_after
        return options

    def _check_broker(self, run_id: int) -> None:
        # The scheduler's clock, like every other wait of the engine's.
        wait = (self._broker_down_until - self._clock.now()).total_seconds()
        if wait > 0:
            raise BrokerUnavailable(
                f"Celery broker unavailable: not sending run {run_id}; "
                f"the broker is tried again in {wait:.1f}s"
            )

    def _broker_failed(self) -> None:
        self._broker_down_until = self._clock.now() + timedelta(seconds=self._retry_after)
        self._release_producer()
        logger.error(
            "Celery broker unavailable; runs due in the next %gs fail without trying it",
            self._retry_after,
            extra={"event": "broker_unavailable", "retry_after": self._retry_after},
        )

    def _producer_(self) -> Any:
        # One producer (and its connection) for every message, rather than one
        # taken from and returned to Celery's pool per message: the hand-over of
        # a busy wake-up is a loop of publishes.
        if self._producer is None:
            self._producer = self.app.producer_pool.acquire(block=True)
        return self._producer

    def _release_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.release()
            except Exception:  # a connection that already broke has nothing to release
                logger.debug("releasing the Celery producer failed", exc_info=True)

    def _import_task_modules(self) -> None:
        if self._modules_imported:
            return
        self._modules_imported = True
        try:  # the modules the app declares (include=, imports=, autodiscovery)
            self.app.loader.import_default_modules()
        except Exception:
            logger.exception("importing the Celery app's task modules failed")


def _app_option(app: object) -> Any:
    if isinstance(app, str):
        app = _import_app(app)
    if not callable(getattr(app, "send_task", None)) or not hasattr(app, "tasks"):
        raise ExecutorConfigError(
            f"OPTIONS: app: expected a Celery app or the dotted path of one "
            f"('proj.celery.app'), got {app!r}"
        )
    return app


def _import_app(path: str) -> object:
    module_name, sep, attribute = path.replace(":", ".").rpartition(".")
    if not sep or not module_name:
        raise ExecutorConfigError(
            f"OPTIONS: app: expected a dotted path such as 'proj.celery.app', got {path!r}"
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # anything the module raises while it runs
        raise ExecutorConfigError(
            f"OPTIONS: app: cannot import module {module_name!r}: {type(error).__name__}: {error}"
        ) from error
    if not hasattr(module, attribute):
        raise ExecutorConfigError(
            f"OPTIONS: app: module {module_name!r} has no attribute {attribute!r}"
        )
    return getattr(module, attribute)


def _queue_option(value: object) -> str | None:
    if value is None or (isinstance(value, str) and value):
        return value
    raise ExecutorConfigError(f"OPTIONS: queue: expected a queue name or None, got {value!r}")


def _priority_option(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255:
        return value
    raise ExecutorConfigError(
        f"OPTIONS: priority: expected an integer from 0 to 255 (Redis uses 0-9), got {value!r}"
    )


def _seconds_option(option: str, value: object) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    raise ExecutorConfigError(f"OPTIONS: {option}: expected seconds above 0, got {value!r}")
