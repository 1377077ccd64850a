"""A store wrapper that injects the store faults of a plan, for one replica or worker.

Every verb of the wrapped store goes through :meth:`FaultyStore._call`, which
asks its :class:`StoreFaults` before the call (a crash, or the store being
unavailable) and after it (a crash after the call committed: the store kept
its effect, the caller never learns of it).  A crash is :class:`Crashed`, a
``BaseException`` like ``SystemExit``: nothing in the engine may catch it, as
nothing in a process survives a SIGKILL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

from scheduler.stores.base import Store

__all__ = ["Crashed", "FaultyStore", "StoreFaults", "faulty"]


class Crashed(BaseException):
    """The replica died at a store call; the simulation restarts it later."""


class StoreFaults(Protocol):
    """Decides, for the caller ``who``, what happens around one store call."""

    def before_call(self, who: int, verb: str) -> None:
        """Raise :class:`Crashed` or ``StoreUnavailable`` before ``verb``, or return."""

    def after_call(self, who: int, verb: str) -> None:
        """Raise :class:`Crashed` after ``verb`` committed, or return."""


class FaultyStore:
    """``inner`` as seen by ``who`` (a replica's index; workers are negative)."""

    def __init__(self, inner: Store, faults: StoreFaults, who: int) -> None:
        self._inner = inner
        self._faults = faults
        self._who = who

    def __getattr__(self, verb: str) -> Callable[..., Any]:
        target = getattr(self._inner, verb)
        if verb.startswith("_") or not callable(target):
            return cast(Callable[..., Any], target)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._faults.before_call(self._who, verb)
            result = target(*args, **kwargs)
            self._faults.after_call(self._who, verb)
            return result

        return call


def faulty(inner: Store, faults: StoreFaults, who: int) -> Store:
    """``inner`` behind a :class:`FaultyStore`, typed as the store it stands for."""
    return cast(Store, FaultyStore(inner, faults, who))
