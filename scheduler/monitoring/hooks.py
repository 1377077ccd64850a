"""Where code registers to hear about runs: started, finished, failed.

A hook is a plain callable taking a :class:`~.events.RunEvent`::

    from scheduler.monitoring.hooks import on_run_failed

    @on_run_failed
    def page_someone(event):
        ...

The process that records a run's start or end calls the hooks once for it,
after the store committed the change, in the thread that recorded it: the
engine's loop or an executor's worker thread in the scheduler, the task's
process on a Celery or django.tasks worker.  Only a change the store actually
made counts, so a run's end is heard once however many processes report it.

``on_run_finished`` hooks hear every end (succeeded, failed, timed out,
lost, missed, skipped, cancelled); ``on_run_failed`` hooks then hear those in
:data:`~.events.PROBLEM_STATUSES`.  A hook that raises is logged and counted
(:attr:`RunHooks.errors`); it never stops the recording or the other hooks.
Hooks should be quick: one that does I/O (mail, HTTP) hands it to a thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .events import RunEvent

__all__ = ["Hook", "RunHooks", "hooks", "on_run_failed", "on_run_finished", "on_run_started"]

logger = logging.getLogger(__name__)

#: What a hook is: called with the event, its return value ignored.
Hook = Callable[[RunEvent], object]


class RunHooks:
    """The hooks of one process (usually the module's :data:`hooks`), by kind."""

    def __init__(self) -> None:
        self._started: tuple[Hook, ...] = ()
        self._finished: tuple[Hook, ...] = ()
        self._failed: tuple[Hook, ...] = ()
        self._lock = threading.Lock()
        self._errors = 0

    def on_started(self, hook: Hook) -> Hook:
        """Call ``hook`` when a run starts in this process; returns it (a decorator)."""
        with self._lock:
            self._started += (hook,)
        return hook

    def on_finished(self, hook: Hook) -> Hook:
        """Call ``hook`` for every run whose end this process records."""
        with self._lock:
            self._finished += (hook,)
        return hook

    def on_failed(self, hook: Hook) -> Hook:
        """Call ``hook`` for the ends in :data:`~.events.PROBLEM_STATUSES` only."""
        with self._lock:
            self._failed += (hook,)
        return hook

    def remove(self, hook: Hook) -> None:
        """Stop calling ``hook``, whatever it was registered for; no error if it was not."""
        with self._lock:
            self._started = tuple(h for h in self._started if h is not hook)
            self._finished = tuple(h for h in self._finished if h is not hook)
            self._failed = tuple(h for h in self._failed if h is not hook)

    @property
    def errors(self) -> int:
        """How many hook calls raised since this object was made."""
        with self._lock:
            return self._errors

    def __bool__(self) -> bool:
        """Whether any hook is registered (recorders skip building events otherwise)."""
        return bool(self._started or self._finished or self._failed)

    def emit_started(self, event: RunEvent) -> None:
        """Tell the ``on_started`` hooks that ``event``'s run started."""
        self._call(self._started, event)

    def emit_finished(self, event: RunEvent) -> None:
        """Tell the ``on_finished`` hooks, then (for a problem) the ``on_failed`` ones."""
        self._call(self._finished, event)
        if event.problem:
            self._call(self._failed, event)

    def _call(self, registered: tuple[Hook, ...], event: RunEvent) -> None:
        for hook in registered:
            try:
                hook(event)
            except Exception:
                with self._lock:
                    self._errors += 1
                logger.exception(
                    "hook %s raised on run %s of %s (%s); the run is recorded all the same",
                    getattr(hook, "__qualname__", hook),
                    event.run_id,
                    event.job_name,
                    event.status.value,
                    extra={
                        "event": "hook_failed",
                        "job": event.job_name,
                        "run_id": event.run_id,
                        "status": event.status.value,
                    },
                )


#: The hooks of this process: what the engine and the workers call unless given others.
hooks = RunHooks()
#: Register a hook for run starts on :data:`hooks`.
on_run_started = hooks.on_started
#: Register a hook for every recorded run end on :data:`hooks`.
on_run_finished = hooks.on_finished
#: Register a hook for failed, timed-out, lost and missed runs on :data:`hooks`.
on_run_failed = hooks.on_failed
