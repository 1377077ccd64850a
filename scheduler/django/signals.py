"""Django signals for run ends: ``run_finished`` and ``run_failed``.

Sent by whichever process records a run's end with the app loaded (the
scheduler for its own executors, a Celery or django.tasks worker for the runs
it executes), once per run, after the store committed, from the run hooks
(:mod:`scheduler.monitoring.hooks`) the app connects when it is ready::

    from django.dispatch import receiver
    from scheduler.django.signals import run_failed

    @receiver(run_failed)
    def page_someone(sender, event, job, **kwargs):
        ...

``sender`` is :class:`~scheduler.monitoring.events.RunEvent` (the class:
Django filters senders by identity, which a job's name string cannot be
trusted to keep); ``event`` is the run's event and ``job`` its job's name.
``run_failed`` is sent for failed, timed-out, lost and missed runs, after
``run_finished``.  A receiver that raises is logged; the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.dispatch import Signal

from ..monitoring.events import RunEvent
from ..monitoring.hooks import RunHooks

__all__ = ["connect_signals", "run_failed", "run_finished"]

logger = logging.getLogger(__name__)

#: Every recorded run end: ``sender=RunEvent, event=..., job=...``.
run_finished = Signal()
#: The ends in :data:`~scheduler.monitoring.events.PROBLEM_STATUSES`, same arguments.
run_failed = Signal()


def _sender(signal: Signal, name: str) -> Callable[[RunEvent], None]:
    def send(event: RunEvent) -> None:
        for receiver, result in signal.send_robust(RunEvent, event=event, job=event.job_name):
            if isinstance(result, Exception):
                logger.error(
                    "%s receiver %r raised on run %s of %s: %r",
                    name,
                    receiver,
                    event.run_id,
                    event.job_name,
                    result,
                    exc_info=result,
                    extra={"event": "signal_failed", "job": event.job_name},
                )

    send.__qualname__ = f"send_{name}"
    return send


_send_finished = _sender(run_finished, "run_finished")
_send_failed = _sender(run_failed, "run_failed")


def connect_signals(hooks: RunHooks) -> None:
    """Send the signals from ``hooks``; calling it again changes nothing."""
    hooks.remove(_send_finished)
    hooks.remove(_send_failed)
    hooks.on_finished(_send_finished)
    hooks.on_failed(_send_failed)
