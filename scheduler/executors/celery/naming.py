"""The names Tickwork and a Celery worker agree on: the wrapper task, and task ids.

A run's Celery task id is derived from the run id, so any process holding a
task id (a worker's signal handler, an operator reading Flower) knows which
run it is, and a message delivered twice carries the same id twice.
"""

from __future__ import annotations

__all__ = ["TASK_ID_PREFIX", "WRAPPER_TASK", "run_id_of", "task_id_of"]

#: The Celery task that executes a registered task for a run, given its id.
WRAPPER_TASK = "scheduler.execute_run"

#: Every task id Tickwork sends starts with this, followed by the run id.
TASK_ID_PREFIX = "tickwork-run-"


def task_id_of(run_id: int) -> str:
    """The Celery task id of run ``run_id``."""
    return f"{TASK_ID_PREFIX}{run_id}"


def run_id_of(task_id: object) -> int | None:
    """The run id in a task id Tickwork sent, or ``None`` for any other task id."""
    if not isinstance(task_id, str) or not task_id.startswith(TASK_ID_PREFIX):
        return None
    digits = task_id[len(TASK_ID_PREFIX) :]
    return int(digits) if digits.isdigit() and digits.isascii() else None
