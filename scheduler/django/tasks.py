"""The worker side of :mod:`scheduler.executors.django_tasks`: the wrapper task.

The executor enqueues ``scheduler.django.tasks.execute_run`` with one
argument, the run id, on a Django tasks backend.  A worker of that backend
(``manage.py db_worker`` for django-tasks-db) imports it from here and calls
it; it then does what the Celery wrapper does (:mod:`scheduler.workers.run`):
loads the run, marks it running on this worker (``host:pid``; a second
delivery of the same run is refused), resolves the job's task through the
registry, executes it while beating the run's heartbeat, and records the
outcome, which also schedules the retry the job's policy asks for.

Where it records: the store of :mod:`scheduler.workers.store`, which in a
Django project is the Django store on ``SCHEDULER["DATABASE"]`` (registered by
the app when it is ready).  What it may run: the ``@job`` tasks of the
project's apps and the patterns of ``SCHEDULER["TASKS"]``, as in the scheduler.
Heartbeats: every ``SCHEDULER["HEARTBEAT_INTERVAL"]``.

The framework is Django's own ``django.tasks`` (Django 6) or, failing that,
the ``django-tasks`` backport (Django 5.2).  This module imports neither when
it is imported, only when ``execute_run`` is first read, because the app's
task discovery imports every app's ``tasks`` module, this one included.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..errors import SchedulerError
from ..tasks.registry import TaskRegistry
from ..workers.heartbeats import RunHeartbeat
from ..workers.run import execute_remote_run
from ..workers.store import ProcessStore, choose_store

__all__ = [
    "WRAPPER_TASK",
    "TasksFrameworkMissing",
    "framework_module",
    "tasks_framework",
    "wrapper_task",
]

logger = logging.getLogger(__name__)

#: The dotted path a backend stores for the wrapper, and imports on its worker.
WRAPPER_TASK = f"{__name__}.execute_run"

#: Where the framework lives: Django 6 first, then the backport for Django 5.2.
_FRAMEWORKS = ("django.tasks", "django_tasks")


class TasksFrameworkMissing(SchedulerError, ImportError):
    """Neither ``django.tasks`` (Django 6) nor the ``django-tasks`` backport is importable."""


def tasks_framework() -> ModuleType:
    """The ``django.tasks`` module, or the backport's ``django_tasks``."""
    for name in _FRAMEWORKS:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise TasksFrameworkMissing(
        "the django.tasks executor needs Django's tasks framework: Django 6.0 or later, "
        "or on Django 5.2 the backport (pip install django-tasks)"
    )


def framework_module(name: str) -> ModuleType:
    """The framework's submodule ``name`` (``"base"``, ``"exceptions"``), in either package."""
    return importlib.import_module(f"{tasks_framework().__name__}.{name}")


def _execute_run(run_id: int) -> dict[str, Any]:
    """Execute and record run ``run_id``; what happened, for the backend's result."""
    side = _worker_side()
    outcome = execute_remote_run(
        int(run_id), store=side.store.get(), registry=side.registry(), heartbeat=side.heartbeat
    )
    status = outcome.status.value if outcome is not None else "not executed"
    return {"run_id": int(run_id), "status": status}


# A backend stores a task as "<module>.<qualname>" of its function, and its
# worker imports that path and expects the Task itself: the function is named
# as the module attribute that __getattr__ below serves.
_execute_run.__name__ = _execute_run.__qualname__ = "execute_run"

_template: Any = None
_template_lock = threading.Lock()


def wrapper_task() -> Any:
    """The wrapper as a ``Task`` bound to no backend yet.

    Bind it with ``.using(backend=..., queue_name=..., priority=...)``, which
    validates it against that backend, as the executor and the workers do.
    It is built without validation because the framework validates a Task
    against its backend when it is made, and which backends exist (and which
    queues they accept) is the project's choice, not this module's.
    """
    global _template
    with _template_lock:
        if _template is None:
            base = framework_module("base")
            values = {
                "func": _execute_run,
                "priority": base.DEFAULT_TASK_PRIORITY,
                "backend": base.DEFAULT_TASK_BACKEND_ALIAS,
                "queue_name": base.DEFAULT_TASK_QUEUE_NAME,
                "run_after": None,
                "takes_context": False,
            }
            template = object.__new__(base.Task)
            for field in dataclasses.fields(base.Task):  # a new field fails here, loudly
                object.__setattr__(template, field.name, values[field.name])
            _template = template
        return _template


def __getattr__(name: str) -> Any:
    if name == "execute_run":
        return wrapper_task()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(eq=False)
class _WorkerSide:
    """What one worker process keeps between runs: its store, heartbeat and registry."""

    store: ProcessStore
    heartbeat: RunHeartbeat

    @staticmethod
    def registry() -> TaskRegistry:
        from .discovery import task_registry
        from .settings import scheduler_settings

        return task_registry(scheduler_settings().tasks)


_side: _WorkerSide | None = None
_side_lock = threading.Lock()


def _worker_side() -> _WorkerSide:
    global _side
    with _side_lock:
        if _side is None:
            from .settings import scheduler_settings

            store = ProcessStore(choose_store)
            interval = scheduler_settings().heartbeat_interval.total_seconds()
            _side = _WorkerSide(store=store, heartbeat=RunHeartbeat(store.get, interval=interval))
            logger.info(
                "tickwork: this django.tasks worker records runs in %s",
                choose_store().origin,
                extra={"event": "worker_store"},
            )
        return _side
