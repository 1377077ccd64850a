"""The project's jobs: found by Celery's autodiscovery in the worker, and by the
Django app's discovery in ``run_scheduler``."""

from __future__ import annotations

import os

from scheduler.tasks.registry import job


@job
def add(a: int, b: int) -> dict[str, int]:
    return {"sum": a + b, "pid": os.getpid()}
