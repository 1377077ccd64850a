"""Starting the runs of an inline executor a chunk at a time, one write per chunk.

An executor that carries out each run inside ``submit``
(:attr:`~scheduler.executors.base.ExecutorCapabilities.runs_inline`, the
immediate executor) starts its runs one after another in the engine's thread.
A start is written before its run executes, so a hundred runs due at the same
instant would wait for a hundred commits, one behind the other.  With group
commit on, the dispatcher writes the starts of a *chunk* of such runs in one
write before handing them over, and each run's ``started`` report takes the
answer that write gave it.

A chunk holds as many runs as are expected to begin within the group commit's
interval of its write, by how long the runs of the last chunk took each; the
first chunk holds one run and each chunk at most twice as many as the one
before.  So a run's recorded ``started_at`` is the instant its start was
written, which comes before the first line of its task by about that interval
at most: the same bound group commit keeps on the record of a run's end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..clock import Clock
from ..executors.invoke import worker_id
from ..model.runs import ClaimedRun
from ..stores.base import RunStart
from ..tasks.registry import RegisteredTask
from .groupcommit import GroupCommit, StartResult

__all__ = ["MAX_CHUNK", "InlineStarts", "Prestarted"]

#: The most runs whose starts one chunk's write records.
MAX_CHUNK = 500

#: Claimed runs with their resolved tasks, for one executor.
Batch = list[tuple[ClaimedRun, RegisteredTask]]


@dataclass(frozen=True, slots=True)
class Prestarted:
    """The answer the chunk's write gave one run's start, and when it was written."""

    answer: StartResult
    at: datetime

    def may_execute(self) -> bool:
        """Whether the run may execute; raises what writing its start raised."""
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


class InlineStarts:
    """Cuts batches of inline runs into chunks whose starts ``group`` writes
    (at ``clock``'s instants) in one write each, sized to the group commit's
    interval; keeps each run's written start until its executor reports it."""

    def __init__(
        self, group: GroupCommit[Any], *, clock: Clock, max_batch: int = MAX_CHUNK
    ) -> None:
        self.group = group
        self.clock = clock
        self.max_batch = max_batch
        self.size = 1  # runs in the next chunk
        self._lock = threading.Lock()
        self._written: dict[int, Prestarted] = {}

    def chunks(self, batch: Batch) -> Iterator[Batch]:
        """``batch`` in order, a chunk at a time, each chunk's starts written
        before it is yielded; each chunk's size is fitted to how long the one
        before took to go through."""
        worker = worker_id()
        done = 0
        while done < len(batch):
            chunk = batch[done : done + self.size]
            began = time.monotonic()
            at = self.clock.now()
            starts = [RunStart(run_id=item.run.id, worker=worker, at=at) for item, _ in chunk]
            self.written(starts, self.group.start_many(starts))
            try:
                yield chunk
            finally:
                self.forget(starts)
            self.fit(len(chunk), time.monotonic() - began)
            done += len(chunk)

    def fit(self, runs: int, seconds: float) -> None:
        """Size the next chunk: ``runs`` took ``seconds`` in all."""
        per_run = seconds / max(runs, 1)
        fits = self.max_batch if per_run <= 0 else int(self.group.interval / per_run)
        self.size = max(1, min(fits, 2 * self.size, self.max_batch))

    def written(self, starts: Sequence[RunStart], answers: Sequence[StartResult]) -> None:
        """Keep the answers a write gave ``starts`` until their runs report in."""
        with self._lock:
            for start, answer in zip(starts, answers, strict=True):
                self._written[start.run_id] = Prestarted(answer, start.at)

    def take(self, run_id: int) -> Prestarted | None:
        """The written start of ``run_id`` (once), or ``None`` if it has none."""
        with self._lock:
            return self._written.pop(run_id, None)

    def forget(self, starts: Sequence[RunStart]) -> None:
        """Drop what is kept for ``starts`` whose runs never reported in (their
        executor refused them: the dispatcher records how they ended)."""
        with self._lock:
            for start in starts:
                self._written.pop(start.run_id, None)
