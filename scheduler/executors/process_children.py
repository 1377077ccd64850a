"""The parent's handle on one child of the process executor: start it, give it a run,
wait for the outcome, its death or the deadline, and stop it.

A child is a :class:`multiprocessing.Process` started with ``spawn`` or
``forkserver`` running :func:`~scheduler.executors.process_child.child_main`,
with a pipe to its parent.  A child that timed out or died is never reused:
the pool starts a fresh one for the next run.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import socket
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from .process_child import ChildConfig, ChildRun, child_main

__all__ = ["Child", "Died", "Returned", "TimedOut", "describe_exit", "start_context"]


@dataclass(frozen=True, slots=True)
class Returned:
    """The child sent the run's outcome (plain values, see ``encode_outcome``)."""

    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Died:
    """The child ended while it ran the task; ``exitcode`` as multiprocessing gives it."""

    exitcode: int | None


@dataclass(frozen=True, slots=True)
class TimedOut:
    """The deadline passed; the child was stopped, with ``signal_used`` in the end."""

    signal_used: signal.Signals


class Child:
    """One child process and the parent's end of its pipe."""

    def __init__(self, context: BaseContext, config: ChildConfig, name: str) -> None:
        ours, theirs = context.Pipe(duplex=True)
        # Never written to: the child sees it close when this process is gone.
        lifeline, self._lifeline = context.Pipe(duplex=False)
        process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=child_main, args=(theirs, lifeline, config), name=name, daemon=True
        )
        process.start()
        theirs.close()  # the child holds its end; ours sees EOF once it is gone
        lifeline.close()
        self.process = process
        self.conn: Connection = ours
        assert process.pid is not None  # noqa: S101 - set by start()
        #: The child's process id.
        self.pid: int = process.pid
        self._reaped = False
        self._exitcode: int | None = None
        self._lock = threading.Lock()  # between kill() from another thread and reaping

    @property
    def worker(self) -> str:
        """Who runs the task, as recorded on the run: ``host:pid`` of the child."""
        return f"{socket.gethostname()}:{self.pid}"

    def alive(self) -> bool:
        """Whether the child can take a run."""
        return not self._reaped and self.process.is_alive()

    def run(
        self, message: ChildRun, timeout: float | None, grace: float
    ) -> Returned | Died | TimedOut:
        """Send ``message`` and wait for what happens first: its outcome, the child's
        death, or ``timeout`` seconds (then the child is stopped; see :meth:`stop`)."""
        try:
            self.conn.send(message)
        except (BrokenPipeError, EOFError, OSError):
            return Died(self._reap())
        ready = wait([self.conn, self.process.sentinel], timeout)
        if self.conn in ready:
            try:
                return Returned(self.conn.recv())
            except (EOFError, OSError):  # it died while sending
                return Died(self._reap())
        if ready:
            return Died(self._reap())
        return TimedOut(self.stop(grace))

    def stop(self, grace: float) -> signal.Signals:
        """SIGTERM, then SIGKILL if it is still there after ``grace`` seconds; wait for
        it to be gone (no zombie is left).  Returns the last signal sent."""
        sent = signal.SIGTERM
        if self._reaped:
            return sent
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(grace)
            if self.process.is_alive():
                sent = signal.SIGKILL
                self.process.kill()
        self._reap()
        return sent

    def kill(self) -> None:
        """SIGKILL the child now, from any thread; the thread running it reaps it."""
        with self._lock:
            if not self._reaped:  # not process.kill(): polling it here would race the reaper
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)

    def close(self, grace: float) -> None:
        """Ask an idle child to exit, and stop it if it does not within ``grace``."""
        if self._reaped:
            return
        try:
            self.conn.send(None)
        except (BrokenPipeError, EOFError, OSError):
            pass
        self.process.join(grace)
        self.stop(grace)

    def _reap(self) -> int | None:
        """Wait for the ended child (so it leaves no zombie) and its exit code."""
        if self._reaped:
            return self._exitcode
        self.process.join()
        with self._lock:
            self.conn.close()
            self._lifeline.close()
            self._exitcode = self.process.exitcode
            self._reaped = True
        return self._exitcode


def start_context(method: str) -> BaseContext:
    """The multiprocessing context for ``method``.

    With ``forkserver``, the server imports the child's module first, so each
    child forked from it starts with Tickwork already imported (this adds to
    the process's forkserver preload list, and counts once the server starts).
    """
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        preload = ["scheduler.executors.process_child"]
        existing = list(getattr(multiprocessing.forkserver._forkserver, "_preload_modules", []))
        context.set_forkserver_preload([*existing, *(m for m in preload if m not in existing)])
    return context


def describe_exit(exitcode: int | None, pid: int) -> str:
    """Why a child ended, in words, for the run's error."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        cause = " (out of memory, or killed from outside)" if -exitcode == signal.SIGKILL else ""
        return (
            f"ChildProcessError: the child process {pid} running the task was killed by "
            f"{name} (signal {-exitcode}){cause}"
        )
    return (
        f"ChildProcessError: the child process {pid} running the task exited with code {exitcode}"
    )
