"""The memory store class: its state behind one re-entrant lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import takewhile

from ..base import Retrier, RunEnd, RunStart, Transitions
from ..checked import CheckedStore
from . import chains, claims, history, jobs, replicas, runs
from .state import State, slot_of

__all__ = ["MemoryStore"]


class MemoryStore(CheckedStore[State]):
    """A complete, thread-safe :class:`~scheduler.stores.base.Store` kept in memory.

    Run ids are increasing integers from 1.  Every public method takes the
    store's lock, so concurrent callers see each call happen all at once.
    """

    _jobs = jobs
    _claims = claims
    _runs = runs
    _replicas = replicas
    _history = history
    _chains = chains

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._state = State()

    @contextmanager
    def _write(self) -> Iterator[State]:
        with self._lock:
            yield self._state

    @contextmanager
    def _read(self) -> Iterator[State]:
        with self._lock:
            yield self._state

    def record_transitions(
        self,
        starts: Sequence[RunStart],
        ends: Sequence[RunEnd],
        *,
        retry: Retrier | None = None,
    ) -> Transitions:
        # A retry refused as a duplicate is found after the runs moved: put
        # them back, so the call changes nothing, as a database's rollback would.
        with self._lock:
            state = self._state
            touched = {start.run_id for start in starts} | {end.run_id for end in ends}
            before = {run_id: state.runs[run_id] for run_id in touched if run_id in state.runs}
            last_id = next(reversed(state.runs), 0)
            try:
                return super().record_transitions(starts, ends, retry=retry)
            except BaseException:
                state.runs.update(before)
                for run_id in list(
                    takewhile(lambda run_id: run_id > last_id, reversed(state.runs))
                ):
                    state.slots.discard(slot_of(state.runs[run_id].job_name, state.runs[run_id]))
                    del state.runs[run_id]
                raise
