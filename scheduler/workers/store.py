"""How a worker outside the scheduler (a Celery worker) finds the store it records runs in.

The scheduler hands a worker nothing but a run id; the worker looks the run up
in the same database.  Which database is decided once per worker, in this
order, and the first that is set wins:

1. a store factory passed by code (``scheduler.workers.celery.install(app, store_factory=...)``);
2. a database URL passed by code (``install(app, database=...)``, or the
   Celery setting ``tickwork_database``);
3. the **default factory** an integration registered with
   :func:`set_default_store_factory`: the seam through which the Django app
   makes workers use the Django store, by calling it from its
   ``AppConfig.ready()``;
4. the ``TICKWORK_DATABASE`` environment variable, as for ``tickwork run``.

A database URL means the SQLAlchemy store (``pip install 'tickwork[sqlalchemy]'``).

Each process gets its own store (:class:`ProcessStore`): a pre-forking worker
must not share database connections between its processes, so a child makes a
fresh one on first use, and :meth:`ProcessStore.briefly` gives the parent
process a store that is closed again at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..errors import SchedulerError
from ..stores.base import Store

__all__ = [
    "DATABASE_ENV",
    "ProcessStore",
    "StoreChoice",
    "StoreFactory",
    "choose_store",
    "database_store",
    "default_store_factory",
    "set_default_store_factory",
]

#: Makes a new store; called once per worker process.
StoreFactory = Callable[[], Store]

#: The environment variable naming the database, shared with ``tickwork run``.
DATABASE_ENV = "TICKWORK_DATABASE"


@dataclass(frozen=True, slots=True)
class StoreChoice:
    """The chosen factory, and a phrase saying where the choice came from (for logs)."""

    factory: StoreFactory
    origin: str


_default: StoreChoice | None = None
_default_lock = threading.Lock()


def set_default_store_factory(factory: StoreFactory | None, *, origin: str) -> None:
    """Register the store workers use when their code names none (step 3 above).

    The Django app calls this from ``AppConfig.ready()`` with a factory of its
    Django store and ``origin="the Django app"``; ``None`` removes it.  The
    factory is called once per worker process, in that process, and must be
    safe to call after a fork.
    """
    global _default
    with _default_lock:
        _default = None if factory is None else StoreChoice(factory, origin)


def default_store_factory() -> StoreChoice | None:
    """The factory registered with :func:`set_default_store_factory`, if any."""
    with _default_lock:
        return _default


def database_store(url: str) -> StoreFactory:
    """A factory of SQLAlchemy stores on ``url``; the tables must already exist."""
    if not isinstance(url, str) or not url:
        raise SchedulerError(f"database: expected a database URL, got {url!r}")

    def make() -> Store:
        try:
            from ..stores.sqlalchemy import SQLAlchemyStore
        except ImportError as error:
            raise SchedulerError(
                f"database {url!r} needs SQLAlchemy: pip install 'tickwork[sqlalchemy]'"
            ) from error
        return SQLAlchemyStore(url)

    return make


def choose_store(
    *, factory: StoreFactory | None = None, database: str | None = None
) -> StoreChoice:
    """Apply the order above; :class:`~scheduler.errors.SchedulerError` if nothing is set."""
    if factory is not None:
        return StoreChoice(factory, "the store factory given by code")
    if database:
        return StoreChoice(database_store(database), "the database given by code")
    registered = default_store_factory()
    if registered is not None:
        return registered
    url = os.environ.get(DATABASE_ENV)
    if url:
        return StoreChoice(database_store(url), f"${DATABASE_ENV}")
    raise SchedulerError(
        "this worker does not know where runs are recorded: pass database= or "
        f"store_factory= to scheduler.workers.celery.install(), or set ${DATABASE_ENV}"
    )


class ProcessStore:
    """One store per process, made on first use by the factory ``choose`` picks.

    Thread-safe.  After a fork the child finds the parent's store belongs to
    another pid and makes its own; the parent's is never used (nor closed) there.
    """

    def __init__(self, choose: Callable[[], StoreChoice]) -> None:
        self._choose = choose
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._store: Store | None = None

    def get(self) -> Store:
        """This process's store."""
        pid = os.getpid()
        with self._lock:
            if self._store is None or self._pid != pid:
                self._store = self._choose().factory()
                self._pid = pid
            return self._store

    @contextmanager
    def briefly(self) -> Iterator[Store]:
        """A store for one rare event in a process that forks workers (a
        pre-forking Celery worker's parent), closed afterwards so that no
        connection is inherited by a child forked later."""
        store = self._choose().factory()
        try:
            yield store
        finally:
            dispose = getattr(store, "dispose", None)
            if callable(dispose):
                dispose()
