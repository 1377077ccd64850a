"""``manage.py rundemo``: the scheduler and the development server together.

Each runs in its own process (``run_scheduler`` and ``runserver``), in its own
session, so that this command alone decides when they stop: on Ctrl-C, on
SIGTERM, after ``--seconds``, or when one of them dies.  It then stops the
other, waits for both, and prints the latest runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from reminders.management.commands.demo_setup import PASSWORD, USERNAME
from scheduler.cli import positive_float
from scheduler.django.status import runs_table
from scheduler.django.store import DjangoStore

#: How long a child may take to stop after SIGTERM (the scheduler's grace, and some).
STOP_TIMEOUT = 20.0


class Command(BaseCommand):
    help = (
        "Run the scheduler and the development server together until Ctrl-C (or --seconds), "
        "then stop both and show the latest runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="where runserver listens")
        parser.add_argument(
            "--seconds", type=positive_float, metavar="N", help="stop after N seconds"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        addr = options["addr"]
        children: dict[str, subprocess.Popen[bytes]] = {}
        with _stop_requested(children) as stop:
            children["scheduler"] = _start([*manage, "run_scheduler"])
            children["web server"] = _start([*manage, "runserver", addr, "--noreload"])
            self.stdout.write(_banner(addr, options["seconds"]))
            died = _wait(children, stop, options["seconds"])
            _stop_all(children)
        self.stdout.write("\n== Latest runs ==\n")
        self.stdout.write(runs_table(DjangoStore(), limit=15))
        if died:
            raise CommandError(died)


def _banner(addr: str, seconds: float | None) -> str:
    until = f"after {seconds:g} s, or on Ctrl-C" if seconds else "on Ctrl-C"
    return (
        f"\n== Tickwork demo: the scheduler and the web server are starting ==\n"
        f"   Log in at http://{addr}/admin/ as {USERNAME!r}, password {PASSWORD!r}.\n"
        f"   Jobs: contrib/demo/schedules.yaml and one deferred reminder.\n"
        f"   Both stop {until}.\n\n"
    )


@contextmanager
def _stop_requested(
    children: Mapping[str, subprocess.Popen[bytes]],
) -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while inside; the old handlers come back after.

    A second signal is passed on to the ``children`` still running: the
    scheduler then stops at once, as its first message says a second Ctrl-C does.
    """
    stop = threading.Event()

    def request(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            for child in children.values():
                if child.poll() is None:
                    os.killpg(child.pid, signum)
        stop.set()

    previous = {sig: signal.signal(sig, request) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start(command: list[str]) -> subprocess.Popen[bytes]:
    # A session of its own: Ctrl-C reaches this command only, which stops the
    # children in order, instead of every process at once.
    return subprocess.Popen(command, start_new_session=True)  # noqa: S603 - our own manage.py


def _wait(
    children: Mapping[str, subprocess.Popen[bytes]], stop: threading.Event, seconds: float | None
) -> str:
    """Until asked to stop or out of time (returns ""), or until a child dies (says which)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    while not stop.wait(0.2):
        for name, child in children.items():
            if child.poll() is not None:
                return f"the {name} stopped by itself (exit status {child.returncode})"
        if deadline is not None and time.monotonic() >= deadline:
            break
    return ""


def _stop_all(children: Mapping[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
