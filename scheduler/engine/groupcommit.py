"""Group commit: the starts and ends executors report, written many at a time.

Each run costs two writes, its start and its end; one transaction each
limits a replica to what the database commits one row at a time.
:class:`GroupCommit` gathers the reports and hands them to one ``write``
that records them all (``Store.record_transitions``: one statement per kind
of report).  The rules:

* a **start** is waited for: its reporter must learn whether the run may
  execute.  The reporter that finds no write going writes at once whatever
  is gathered; reports that arrive while a write is going are written by the
  next, so a start waits for at most one write besides its own, and starts
  from many workers share their writes;
* an **end** is not waited for.  It is written with the next start's write,
  or when it has waited ``interval`` seconds, or when ``max_batch`` reports
  are gathered, whichever comes first: no run's record is delayed by more
  than ``interval`` plus one write;
* :meth:`GroupCommit.flush` writes everything gathered before it returns
  (the engine calls it after each wake-up's hand-over and at shutdown).

Nothing is lost by gathering: an end not written yet belongs to a run whose
start was written, and a replica that dies before writing it stops
heartbeating, so recovery records that run ``lost`` (and retries it by its
job's policy), as it does for a run that was executing when its replica died.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..stores.base import RunStart

__all__ = ["DEFAULT_INTERVAL", "DEFAULT_MAX_BATCH", "GroupCommit", "StartResult", "Write"]

logger = logging.getLogger(__name__)

#: How long an end may wait for company before it is written, in seconds.
DEFAULT_INTERVAL = 0.05
#: The most reports one write carries.
DEFAULT_MAX_BATCH = 1000
#: Seconds without ends after which the timer thread stops (an engine never
#: closed leaves no thread behind for long).
_IDLE = 1.0

E = TypeVar("E")

#: A start's answer: whether the run may execute, or what its write raised.
StartResult = bool | BaseException
#: Records starts and ends; returns one answer per start, in order.
Write = Callable[[Sequence[RunStart], Sequence[E]], Sequence[StartResult]]


@dataclass(slots=True)
class _Waiting:
    start: RunStart
    answer: StartResult | None = None


class GroupCommit(Generic[E]):
    """Gathers starts and ends (of type ``E``) and writes them with ``write``.

    Thread-safe.  ``on_batch`` hears the size of every write (starts plus
    ends).  A background thread writes ends that waited ``interval``
    seconds; :meth:`close` writes what is left and stops it.
    """

    def __init__(
        self,
        write: Write[E],
        *,
        interval: float = DEFAULT_INTERVAL,
        max_batch: int = DEFAULT_MAX_BATCH,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        if interval <= 0 or max_batch < 1:
            raise ValueError(
                f"group commit: interval must be positive and max_batch at least 1, "
                f"got {interval!r} and {max_batch!r}"
            )
        self._write = write
        self.interval = interval
        self.max_batch = max_batch
        self._on_batch = on_batch
        self._cond = threading.Condition()
        self._starts: list[_Waiting] = []
        self._ends: list[E] = []
        self._oldest = 0.0  # when the oldest gathered end arrived (monotonic)
        self._writing = False
        self._closed = False
        self._timing = False  # whether the timer thread runs

    def start(self, start: RunStart) -> bool:
        """Record ``start`` with the next write and wait for it: whether the run
        may execute.  Raises what recording it raised."""
        answer = self.start_many([start])[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def start_many(self, starts: Sequence[RunStart]) -> list[StartResult]:
        """Record ``starts`` with the next write (as few writes as
        ``max_batch`` allows) and wait for it: each start's answer, in order,
        an error in place of the answer of a start whose write raised."""
        waiting = [_Waiting(start) for start in starts]
        if not waiting:
            return []
        with self._cond:
            self._starts.extend(waiting)
            while waiting[-1].answer is None:  # written in order: the last is answered last
                if self._writing:
                    self._cond.wait()
                else:
                    self._write_gathered()
        return [each.answer for each in waiting if each.answer is not None]

    def end(self, end: E) -> None:
        """Record ``end`` within ``interval`` seconds (plus one write); returns at once."""
        with self._cond:
            if not self._ends:
                self._oldest = time.monotonic()
            self._ends.append(end)
            if len(self._ends) == 1 or len(self._ends) >= self.max_batch:
                self._cond.notify_all()
            if not self._timing and not self._closed:
                self._timing = True
                timer = threading.Thread(target=self._timer, name="tickwork-group-commit")
                timer.daemon = True
                timer.start()
        if self._closed:  # no timer any more: write it now
            self.flush()

    def flush(self) -> None:
        """Write everything gathered so far before returning."""
        with self._cond:
            while self._starts or self._ends or self._writing:
                if self._writing:
                    self._cond.wait()
                else:
                    self._write_gathered()

    @property
    def gathered(self) -> int:
        """How many reports wait for a write."""
        with self._cond:
            return len(self._starts) + len(self._ends)

    def close(self) -> None:
        """Write what is gathered and stop the timer; later ends are written at once."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            while self._timing:
                self._cond.wait()
        self.flush()

    # -- internals (called with the lock held) -------------------------------------
    def _write_gathered(self) -> None:
        """Write up to ``max_batch`` gathered reports, starts first; releases
        the lock meanwhile, so others gather for the next write."""
        starts = self._starts[: self.max_batch]
        del self._starts[: len(starts)]
        room = self.max_batch - len(starts)
        ends = self._ends[:room]
        del self._ends[:room]
        if self._ends:
            self._oldest = time.monotonic()
        self._writing = True
        self._cond.release()
        answers: Sequence[StartResult] = ()
        try:
            answers = self._answers(starts, ends)
        except BaseException as error:  # a thread stopped mid-write: no start waits for ever
            answers = [error] * len(starts)
            raise
        finally:
            self._cond.acquire()
            self._writing = False
            for waiting, answer in zip(starts, answers, strict=True):
                waiting.answer = answer
            self._cond.notify_all()

    def _answers(self, starts: list[_Waiting], ends: list[E]) -> Sequence[StartResult]:
        """``write``'s answers, never raising: an error becomes every start's answer."""
        try:
            answers = self._write([waiting.start for waiting in starts], ends)
        except Exception as error:
            logger.exception("group commit of %d starts and %d ends failed", len(starts), len(ends))
            return [error] * len(starts)
        if self._on_batch is not None:
            self._on_batch(len(starts) + len(ends))
        return answers

    def _timer(self) -> None:
        """Write the ends that waited ``interval``, until closed or idle for
        :data:`_IDLE` seconds (the next end starts another)."""
        with self._cond:
            try:
                self._time_ends()
            finally:
                self._timing = False
                self._cond.notify_all()

    def _time_ends(self) -> None:
        idle_since = time.monotonic()
        while not self._closed:
            now = time.monotonic()
            if self._ends:
                idle_since = now
            elif now - idle_since > _IDLE:
                return
            if self._writing or not self._ends:
                self._cond.wait(_IDLE)
            elif now - self._oldest >= self.interval or len(self._ends) >= self.max_batch:
                self._write_gathered()
            else:
                self._cond.wait(self._oldest + self.interval - now)
