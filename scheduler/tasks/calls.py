"""What a deferral gives back: :class:`DeferredCall`, a handle on the job it wrote.

Kept apart from the :class:`~scheduler.tasks.deferrer.Deferrer` that makes
handles, so that the registry can name the type a ``.defer()`` returns without
importing the machinery behind it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ..model.jobs import JSONValue
from .cancellation import Cancellation, cancellation

__all__ = ["Canceller", "DeferredCall", "Delivery"]


class Canceller(Protocol):
    """Whatever wrote a deferred call and can cancel it by name (a Deferrer)."""

    def cancel(self, name: str) -> Cancellation:
        """Make sure the deferred call ``name`` does not run, if it has not started."""
        ...


class Delivery:
    """Whether a deferred call's job is ``waiting`` to be written, ``written``, or
    ``withdrawn`` before it could be.  Shared by a handle and the write waiting
    for a transaction to commit."""

    __slots__ = ("_lock", "state")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state = "waiting"

    def write(self, save: Callable[[], object]) -> None:
        with self._lock:
            if self.state == "waiting":
                save()
                self.state = "written"

    def withdraw(self) -> str:
        """Make sure it is never written, if it is still waiting; the state it was in."""
        with self._lock:
            previous = self.state
            if previous == "waiting":
                self.state = "withdrawn"
            return previous


@dataclass(frozen=True, slots=True, kw_only=True)
class DeferredCall:
    """A deferred call, as :func:`~scheduler.tasks.defer.defer` returns it.

    ``name`` is its job's name; ``run_at`` the instant asked for (aware UTC).
    Until the transaction it was deferred in commits, nothing is written
    (``written`` is False) and :meth:`cancel` simply withdraws it.
    """

    name: str
    task: str
    run_at: datetime
    args: tuple[JSONValue, ...] = ()
    kwargs: dict[str, JSONValue] = field(default_factory=dict)
    _deferrer: Canceller = field(repr=False, compare=False)
    _delivery: Delivery = field(repr=False, compare=False)

    @property
    def written(self) -> bool:
        """Whether its job is in the store (False while waiting for a commit)."""
        return self._delivery.state == "written"

    def cancel(self) -> Cancellation:
        """Make sure it does not run, if it has not started: see
        :meth:`~scheduler.tasks.deferrer.Deferrer.cancel`."""
        previous = self._delivery.withdraw()
        if previous == "written":
            return self._deferrer.cancel(self.name)
        if previous == "waiting":
            message = "withdrawn before it was written (its transaction had not committed)"
            return cancellation(self.name, cancelled=True, message=message)
        return cancellation(self.name, cancelled=False, message="was already withdrawn")
