"""Deferred calls: run a registered task once, later, durably.

.. code-block:: python

    call = send_reminder.defer(delay=timedelta(hours=2), kwargs={"user_id": 7})
    call.cancel()

A deferred call is a one-off job: a job of source ``code`` with a
:class:`~scheduler.schedules.Once` schedule and a generated name such as
``app.tasks.send_reminder:5f0c2a9e41d7b388``.  The scheduler claims it like
any other job, so it survives restarts, fires exactly once (the store's claim
moves ``next_run_at`` past it in the same transaction that creates its run),
is retried by its ``retries``, and shows in the admin and ``tickwork jobs``.
A call whose time passed while no scheduler ran fires once it is back.

A :class:`~scheduler.tasks.deferrer.Deferrer` writes deferred calls into one
store.  :func:`defer` and the ``.defer()`` of ``@job`` functions find it in
this order:

1. ``store=`` given: that store, written at once;
2. otherwise the default set by an integration or by :func:`set_default_store`:
   the Django app sets one that writes through the site's database when the
   current transaction commits (see ``scheduler.django.deferral``).

Nothing here imports Django: the Django app hands the core a store, its task
registry and a commit hook (``transaction.on_commit``).

This module is the place to import the deferral API from; its pieces live in
:mod:`.keywords` (the keywords a deferral takes), :mod:`.oneoff` (checking
them and building the one-off job), :mod:`.deferrer` (the
:class:`~scheduler.tasks.deferrer.Deferrer` and the
:class:`~scheduler.tasks.deferrer.DeferredCall` it returns) and
:mod:`.cancellation`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, Unpack

from ..clock import Clock
from ..errors import InvalidJob, JobNotFound, StoreNotConfigured
from ..stores.base import Store
from .cancellation import Cancellation
from .deferrer import DeferredCall, Deferrer, TaskRef
from .keywords import (
    DeferKeywords,
    DeferOptions,
    FactoryKeywords,
    keyword_signature,
    split_keywords,
)
from .oneoff import MAX_AHEAD, MAX_BEHIND, is_deferred
from .registry import RegisteredTask, TaskRegistry, add_job_attributes

__all__ = [
    "MAX_AHEAD",
    "MAX_BEHIND",
    "Cancellation",
    "DeferOptions",
    "DeferredCall",
    "Deferrer",
    "DeferrerFactory",
    "TaskRef",
    "bound_defer",
    "cancel_deferred",
    "defer",
    "is_deferred",
    "set_default_deferrer",
    "set_default_store",
]


class DeferrerFactory(Protocol):
    """Builds the :class:`~scheduler.tasks.deferrer.Deferrer` for one :func:`defer`
    or :func:`cancel_deferred`.

    It is given every keyword of :class:`~scheduler.tasks.keywords.FactoryKeywords`
    (``on_commit`` and ``using``) as the caller gave it, ``None`` when not
    given; a factory refuses those it cannot honour with
    :class:`~scheduler.errors.InvalidJob`.
    """

    def __call__(self, **given: Unpack[FactoryKeywords]) -> Deferrer:
        """The deferrer that writes the way ``given`` asks."""
        ...


@dataclass(frozen=True, slots=True)
class _StoreFactory:
    store: Store
    clock: Clock | None = None
    registry: TaskRegistry | None = None

    def __call__(self, **given: Unpack[FactoryKeywords]) -> Deferrer:
        on_commit, using = given.get("on_commit"), given.get("using")
        if on_commit:
            raise InvalidJob(
                "on_commit=True waits for a Django transaction, but this store is written at "
                "once: leave on_commit out, or add 'scheduler.django' to INSTALLED_APPS"
            )
        if using is not None:
            raise InvalidJob(
                f"using={using!r} names a Django database, but the deferral goes to "
                f"{self.store!r}: leave using out"
            )
        return Deferrer(self.store, clock=self.clock, registry=self.registry)


_lock = threading.Lock()
_default: DeferrerFactory | None = None


def set_default_deferrer(factory: DeferrerFactory | None) -> DeferrerFactory | None:
    """Make ``factory`` build the deferrer of every :func:`defer` given no ``store``.

    Returns the one it replaces.  The Django app calls this when it is ready;
    plain Python uses :func:`set_default_store`.  ``None`` removes the default.
    """
    global _default
    with _lock:
        previous, _default = _default, factory
    return previous


def set_default_store(
    store: Store | None, *, clock: Clock | None = None, registry: TaskRegistry | None = None
) -> None:
    """Defer into ``store`` whenever :func:`defer` is not given one (``None``: no default).

    For plain Python, once at start-up: ``set_default_store(SQLAlchemyStore(url))``.
    Writes happen at once, in the store's own transaction.
    """
    set_default_deferrer(None if store is None else _StoreFactory(store, clock, registry))


def _deferrer(store: Store | None, given: FactoryKeywords) -> Deferrer:
    if store is not None:
        return _StoreFactory(store)(**given)
    with _lock:
        factory = _default
    if factory is None:
        raise StoreNotConfigured(
            "no store to defer into: pass store=..., call "
            "scheduler.set_default_store(store) once at start-up, or add "
            "'scheduler.django' to INSTALLED_APPS to defer into the site's database"
        )
    return factory(**given)


@keyword_signature(DeferKeywords)
def defer(task: TaskRef, **keywords: Unpack[DeferKeywords]) -> DeferredCall:
    """Run the registered ``task`` once, at ``run_at`` or after ``delay``; durably.

    ``task`` is a task name (``"app.tasks.send_reminder"``) or a ``@job``
    function, which also has this as its ``.defer()``.  The keywords are
    those of :class:`~scheduler.tasks.keywords.DeferKeywords`: ``args`` and
    ``kwargs`` are JSON; the job options set the job's executor, queue,
    retries, retry backoff, timeout or description.

    Under Django (``scheduler.django`` installed) the call is written into
    ``SCHEDULER["DATABASE"]`` (or ``using``) when the current transaction
    commits, and never if it rolls back; ``on_commit=False`` writes it at
    once, inside the transaction.  Without Django, give ``store`` or call
    :func:`set_default_store` first; :class:`~scheduler.errors.StoreNotConfigured`
    otherwise.  Bad input raises as
    :meth:`Deferrer.defer <scheduler.tasks.deferrer.Deferrer.defer>` says,
    before anything is written.
    """
    store, given, call = split_keywords(keywords)
    return _deferrer(store, given).defer(task, **call)


def cancel_deferred(
    name: str, *, store: Store | None = None, using: str | None = None
) -> Cancellation:
    """Cancel the deferred call ``name`` (``DeferredCall.name``): see
    :meth:`Deferrer.cancel <scheduler.tasks.deferrer.Deferrer.cancel>`.

    Found where :func:`defer` would write it (``store``, ``using``, or the
    default).  Raises :class:`~scheduler.errors.JobNotFound` if there is no
    such job.
    """
    try:
        return _deferrer(store, {"on_commit": None, "using": using}).cancel(name)
    except JobNotFound:
        raise JobNotFound(f"no deferred call is called {name!r}") from None


def bound_defer(task: RegisteredTask) -> Callable[..., DeferredCall]:
    """The ``.defer()`` that :func:`~scheduler.tasks.registry.job` gives a function:
    :func:`defer` with ``task``, taking the same keywords."""

    @keyword_signature(DeferKeywords)
    def defer_task(**keywords: Unpack[DeferKeywords]) -> DeferredCall:
        return defer(task, **keywords)

    defer_task.__doc__ = f"Run {task.name} once, later: see scheduler.defer()."
    defer_task.__qualname__ = f"{task.name}.defer"
    return defer_task


add_job_attributes(lambda task: {"defer": bound_defer(task)})
