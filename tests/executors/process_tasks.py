"""Tasks the process executor's tests run in its children, registered with ``@job``.

Each writes its pid to ``pidfile`` first, so a test can find (and kill) the
child that runs it.  Imported by the children, so nothing here imports pytest.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from scheduler.tasks.registry import job


def note_pid(pidfile: str) -> None:
    """Write this process's pid where the test looks for it."""
    Path(pidfile).write_text(str(os.getpid()), encoding="utf-8")


@job
def sleeper(*, pidfile: str, seconds: float = 30.0) -> str:
    """Sleeps ``seconds`` in one call: only a signal ends it early."""
    note_pid(pidfile)
    time.sleep(seconds)
    return "slept"


@job
def stubborn(*, pidfile: str, seconds: float = 30.0) -> str:
    """Ignores SIGTERM, so only SIGKILL stops it."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    note_pid(pidfile)
    time.sleep(seconds)
    return "slept"


@job
def exits(code: int, *, pidfile: str) -> None:
    """Ends its process at once, as a C extension calling exit() would."""
    note_pid(pidfile)
    os._exit(code)


@job
def pid(*, pidfile: str) -> int:
    """Returns the pid of the process that ran it."""
    note_pid(pidfile)
    return os.getpid()


@job
def allocate(megabytes: int, *, pidfile: str) -> int:
    """Allocates ``megabytes`` MiB and returns how many it got."""
    note_pid(pidfile)
    block = bytearray(megabytes * 1024 * 1024)
    return len(block) // (1024 * 1024)


def not_importable_in_a_child() -> None:
    """Registered by a test under a name no child can resolve."""


INITIALIZED: list[int] = []


def initialize() -> None:
    """A child initializer: notes the pid it ran in."""
    INITIALIZED.append(os.getpid())


def broken_initializer() -> None:
    raise RuntimeError("no settings")


@job
def initialized() -> list[int]:
    """The pids the initializer ran in, as this process saw them."""
    return INITIALIZED
