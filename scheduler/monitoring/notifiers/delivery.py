"""Sending notifications in the background: a bounded queue, one thread, retries.

A run hook must never delay or break the recording of a run, and a mail
server or a webhook receiver may be down or slow.  So a notifier only puts
the event on a :class:`Delivery`'s queue (never blocking: a full queue drops
the event, and counts it), and one daemon thread takes events off it and
calls ``deliver``, retrying a failed call with capped exponential backoff.

Every event ends in exactly one count (``sent``, ``failed`` after the last
retry, ``dropped`` when the queue was full or closed, or ``skipped`` when
the deliverer chose not to send it, such as a throttled mail), so the counts
can be exported as ``tickwork_notifications_total{notifier,outcome}``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ...model.words import plural
from .. import events

__all__ = ["OUTCOMES", "Backoff", "Delivery", "Skip"]

logger = logging.getLogger(__name__)

#: The outcomes a notification is counted under.
OUTCOMES = ("sent", "failed", "dropped", "skipped")


class Skip(Exception):
    """Raised by a deliverer that decided not to send (counted as ``skipped``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    """How often and how patiently a failed delivery is tried again.

    ``retries`` more attempts after the first, waiting ``first`` seconds,
    then twice as long each time, at most ``cap`` seconds.
    """

    retries: int = 3
    first: float = 1.0
    cap: float = 60.0

    def delays(self) -> list[float]:
        """The waits before each retry, in order."""
        return [min(self.first * 2**attempt, self.cap) for attempt in range(self.retries)]


class Delivery:
    """One background thread delivering queued events for one notifier.

    ``deliver(event)`` does the sending; raising means "try again" (after the
    next delay of ``backoff``), raising :class:`Skip` means "not sent, on
    purpose".  ``wait(seconds)`` is how the thread waits between attempts; it
    returns ``True`` when the wait was cut short by :meth:`close` (tests pass
    one that records the delays and returns at once).  The thread starts with
    the first event.
    """

    def __init__(
        self,
        name: str,
        deliver: Callable[[events.RunEvent], object],
        *,
        backoff: Backoff | None = None,
        queue_size: int = 1000,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.name = name
        self.backoff = backoff or Backoff()
        self._deliver = deliver
        self._queue: queue.Queue[events.RunEvent | None] = queue.Queue(maxsize=queue_size)
        self._closing = threading.Event()
        self._wait = wait or self._closing.wait
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._counts = dict.fromkeys(OUTCOMES, 0)

    @property
    def counts(self) -> dict[str, int]:
        """How many events ended in each of :data:`OUTCOMES` so far."""
        with self._lock:
            return dict(self._counts)

    def submit(self, event: events.RunEvent) -> bool:
        """Queue ``event`` for the thread; ``False`` (and counted dropped) if it cannot be."""
        if self._closing.is_set():
            return self._drop(event, "the notifier is closed")
        self._start()
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            return self._drop(event, f"its queue is full ({self._queue.maxsize} waiting)")
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued event is handled; ``False`` if ``timeout`` ran out first."""
        pending = self._queue
        with pending.all_tasks_done:
            return pending.all_tasks_done.wait_for(lambda: not pending.unfinished_tasks, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop taking events; give the queued ones ``timeout`` seconds, then drop the rest.

        Retry waits are cut short: an event that fails while closing is counted failed.
        """
        self._closing.set()
        thread = self._thread
        if thread is None:
            return
        deadline = time.monotonic() + timeout
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            pass
        thread.join(max(0.0, deadline - time.monotonic()))
        while True:  # whatever the thread did not reach
            try:
                left = self._queue.get_nowait()
            except queue.Empty:
                break
            if left is not None:
                self._drop(left, "the notifier closed before it was sent")
            self._queue.task_done()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name=f"tickwork-notify-{self.name}", daemon=True
                )
                self._thread.start()

    def _work(self) -> None:
        while True:
            event = self._queue.get()
            try:
                if event is None:
                    return
                self._count(self._attempts(event))
            finally:
                self._queue.task_done()

    def _attempts(self, event: events.RunEvent) -> str:
        delays = self.backoff.delays()
        for attempt in range(len(delays) + 1):
            try:
                self._deliver(event)
            except Skip:
                return "skipped"
            except Exception as error:  # any failure of a receiver is retried, then counted
                if attempt == len(delays) or self._closing.is_set():
                    self._log_failure(event, error, attempt + 1)
                    return "failed"
                logger.info(
                    "notifier %s: run %s of %s not delivered (%s); retrying in %gs",
                    self.name,
                    event.run_id,
                    event.job_name,
                    error,
                    delays[attempt],
                )
                if self._wait(delays[attempt]) and self._closing.is_set():
                    self._log_failure(event, error, attempt + 1)
                    return "failed"
            else:
                return "sent"
        raise AssertionError("unreachable")  # pragma: no cover

    def _count(self, outcome: str) -> None:
        with self._lock:
            self._counts[outcome] += 1

    def _drop(self, event: events.RunEvent, why: str) -> bool:
        self._count("dropped")
        logger.warning(
            "notifier %s: run %s of %s (%s) not notified: %s",
            self.name,
            event.run_id,
            event.job_name,
            event.status.value,
            why,
            extra={"event": "notification_dropped", "notifier": self.name, "job": event.job_name},
        )
        return False

    def _log_failure(self, event: events.RunEvent, error: Exception, attempts: int) -> None:
        logger.error(
            "notifier %s: run %s of %s (%s) not delivered after %s: %s",
            self.name,
            event.run_id,
            event.job_name,
            event.status.value,
            plural(attempts, "attempt"),
            error,
            extra={"event": "notification_failed", "notifier": self.name, "job": event.job_name},
        )
