"""Tickwork on Celery workers: the worker side of :mod:`scheduler.executors.celery`.

Importing this package imports Celery; the core never does.  In the module
that builds your Celery app::

    import scheduler.workers.celery

    scheduler.workers.celery.install(app, database="postgresql://tickwork@db/tickwork")

See :func:`install`, and ``docs/how-to/run-jobs-on-celery.md``.
"""

from __future__ import annotations

from ...executors.celery.naming import TASK_ID_PREFIX, WRAPPER_TASK, run_id_of, task_id_of
from .integration import CONFIG_KEY, Integration, install

__all__ = [
    "CONFIG_KEY",
    "TASK_ID_PREFIX",
    "WRAPPER_TASK",
    "Integration",
    "install",
    "run_id_of",
    "task_id_of",
]
