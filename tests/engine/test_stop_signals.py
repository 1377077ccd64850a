"""SIGTERM and SIGINT stop the engine, and the handler never waits for a lock.

Each case runs in a child interpreter, so that a handler that deadlocks fails
the test by its timeout instead of hanging the test run, and so that the
signals raised go to that child alone.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

PRELUDE = """
import logging, signal, threading
logging.basicConfig(level=logging.INFO, format="%(message)s")
from scheduler.engine import Engine
from scheduler.engine.signals import ForcedStop, stopped_by_signals
from scheduler.testing import MemoryStore, RecordingExecutor

engine = Engine(MemoryStore(), {"default": RecordingExecutor()})
"""


def run_child(body: str) -> subprocess.CompletedProcess[str]:
    script = PRELUDE + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )


def test_signals_that_come_while_the_main_thread_holds_the_wake_lock_stop_the_engine() -> None:
    """The loop waits on an event whose lock a signal may find held by the
    very thread its handler runs on (a ``wait`` returning): the handler must
    hand the stop to another thread, or it waits for itself for ever."""
    done = run_child(
        """
        forced = None
        try:
            with stopped_by_signals(engine):
                with engine._woken._cond:  # as Event.wait holds it while it returns
                    signal.raise_signal(signal.SIGINT)
                    signal.raise_signal(signal.SIGTERM)
                    held_through = True
                assert engine._woken.wait(10), "never woken"
        except ForcedStop as error:
            forced = error
        print(held_through, engine.stopping, engine.forced, forced.signal.name, forced.exit_status)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True", "SIGTERM", "143"]
    assert "received SIGINT: stopping" in done.stderr
    assert "received SIGTERM again: stopping now" in done.stderr


def test_one_signal_stops_gracefully_and_the_handlers_come_back() -> None:
    done = run_child(
        """
        before = signal.getsignal(signal.SIGTERM)
        with stopped_by_signals(engine):
            signal.raise_signal(signal.SIGTERM)
            assert engine._woken.wait(10), "never woken"
        print(engine.stopping, engine.forced, signal.getsignal(signal.SIGTERM) is before)
        print(sorted(t.name for t in threading.enumerate()))
        """
    )
    assert done.returncode == 0, done.stderr
    stopped, threads = done.stdout.splitlines()
    assert stopped.split() == ["True", "False", "True"]
    assert "tickwork-signals" not in threads  # the relay thread ended with the block
    assert "press Ctrl-C again to stop now" in done.stderr
