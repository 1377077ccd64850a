"""The no-op task of the steady-state workload, in a module of its own: the process
executor's children import the module a task was defined in, which must not be
the ``__main__`` of ``python -m benchmarks.steady``."""

from __future__ import annotations

from scheduler.tasks.registry import job

__all__ = ["TASK", "noop"]

TASK = "benchmarks.noop"


@job(name=TASK)
def noop() -> None:
    """Does nothing: the workload measures the scheduler, not the task."""
