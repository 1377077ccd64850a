"""The memory store class: its state behind one re-entrant lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..checked import CheckedStore
from . import claims, history, jobs, replicas, runs
from .state import State

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
