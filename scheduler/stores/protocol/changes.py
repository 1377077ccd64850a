"""Waking a sleeping engine (optional): the change channel, its listener, the stores with one."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["CHANGE_CHANNEL", "ChangeListener", "NotifiesChanges"]

#: The PostgreSQL channel a store NOTIFYs, inside the writing transaction, when
#: it saves or syncs jobs, pauses or resumes one, or adds a run: every store on
#: one database uses it, so an edit made through any of them (the Django admin,
#: ``tickwork pause``) wakes every listening engine.
CHANGE_CHANNEL = "scheduler_change"


@runtime_checkable
class ChangeListener(Protocol):
    """A dedicated connection that hears other processes' changes.

    Used from one thread (the engine's loop), except :meth:`interrupt`.
    """

    def wait(self, timeout: float) -> bool:
        """Block until a change is notified, :meth:`interrupt` is called, or
        ``timeout`` seconds pass, whichever is first.  Returns True when a change
        was notified (changes notified since the previous call count, so none
        is missed between calls; the process's own changes count too).

        Never raises for a lost connection: it logs, sleeps out the timeout,
        and reconnects on a later call; changes made while it was away are
        not reported, so callers still bound their sleep by a poll interval.
        """
        ...

    def interrupt(self) -> None:
        """Make the current, or else the next, :meth:`wait` return at once.
        Safe from another thread and from a signal handler."""
        ...

    def close(self) -> None:
        """Stop listening and close the connection."""
        ...


@runtime_checkable
class NotifiesChanges(Protocol):
    """A store that can wake a sleeping engine when another process changes its jobs."""

    def listen_for_changes(self) -> ChangeListener | None:
        """Start listening now: a change committed after this returns wakes
        :meth:`ChangeListener.wait`.  ``None`` when this database cannot
        notify (SQLite): the engine then polls.  The caller closes the listener.

        Does not raise when the database cannot be reached: the listener then
        starts disconnected and connects on a later :meth:`~ChangeListener.wait`.
        """
        ...
