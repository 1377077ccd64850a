"""Hand runs to Celery workers: :class:`CeleryExecutor` (the scheduler's half).

:mod:`.executor` publishes the messages; :mod:`.naming` holds what both halves
agree on (the wrapper task's name, task ids derived from run ids), so the
worker's half, :mod:`scheduler.workers.celery`, imports it from here.
Importing this package imports Celery's messaging library; the core never does.
"""

from __future__ import annotations

from .executor import BrokerUnavailable, CeleryExecutor

__all__ = ["BrokerUnavailable", "CeleryExecutor"]
