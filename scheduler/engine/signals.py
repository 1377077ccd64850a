"""What SIGTERM and SIGINT do to a running scheduler process.

The first of either stops it gracefully: no new claims, running work gets the
shutdown grace to finish.  A second one, while that grace runs, stops it now:
the runs still going are recorded ``lost`` (and retried where their job
allows), and :func:`stopped_by_signals` raises :class:`ForcedStop`, which the
commands turn into a non-zero exit status.  ``tickwork run`` and
``manage.py run_scheduler`` both stop this way.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from ..errors import SchedulerError
from .loop import Engine

__all__ = ["FORCE_HINT", "ForcedStop", "SignalStop", "stopped_by_signals"]

logger = logging.getLogger(__name__)

#: What the first signal's log line tells a person at a terminal.
FORCE_HINT = "press Ctrl-C again to stop now"

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: How long leaving :func:`stopped_by_signals` waits for the signals received
#: to be acted on, in seconds (stopping the engine only sets events).
_CLOSE_TIMEOUT = 5.0


class ForcedStop(SchedulerError):
    """A second stop signal ended the scheduler before its shutdown grace did."""

    def __init__(self, received: signal.Signals) -> None:
        super().__init__(
            f"stopped at once by a second {received.name}: the runs still going were recorded lost"
        )
        self.signal = received

    @property
    def exit_status(self) -> int:
        """128 plus the signal's number, as a shell reports a process it ended."""
        return 128 + int(self.signal)


@dataclass(slots=True)
class SignalStop:
    """The stop signals received so far: the one that began the graceful stop,
    and the one that forced it."""

    first: signal.Signals | None = None
    forced_by: signal.Signals | None = None


@contextmanager
def stopped_by_signals(engine: Engine) -> Iterator[SignalStop]:
    """SIGTERM and SIGINT stop ``engine``: the first gracefully, a second at
    once.  The previous handlers come back on the way out; if a second signal
    came, :class:`ForcedStop` is raised then (once the engine has closed,
    when the body runs it).

    The handler itself only passes the signal on: Python runs it in the main
    thread between two of its steps, maybe while that thread holds the lock
    of an event the engine waits on, so stopping the engine (which sets those
    events) and logging happen on a thread of their own.
    """
    received = SignalStop()
    relay = _Relay(engine, received)
    previous = {signum: signal.signal(signum, relay.handle) for signum in _SIGNALS}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        relay.close()  # acts on every signal received before it returns
    if received.forced_by is not None:
        raise ForcedStop(received.forced_by)


class _Relay:
    """Takes stop signals from the handler and acts on them on its own thread.

    The handler writes the signal's number to a socket, which takes no lock
    Python code could be holding; the thread reads them in order and stops
    the engine, gracefully on the first and at once on the second.
    """

    def __init__(self, engine: Engine, received: SignalStop) -> None:
        self.engine = engine
        self.received = received
        self._inbox, self._outbox = socket.socketpair()
        self._outbox.setblocking(False)
        self._thread = threading.Thread(target=self._serve, name="tickwork-signals", daemon=True)
        self._thread.start()

    def handle(self, signum: int, frame: FrameType | None) -> None:
        """The signal handler: one write, nothing else."""
        try:
            self._outbox.send(bytes([signum]))
        except OSError:  # closed, or full of signals not read yet: those stop it
            pass

    def close(self) -> None:
        """Act on the signals written so far, then stop the thread."""
        self._outbox.close()  # the thread reads what is left, then the end
        self._thread.join(_CLOSE_TIMEOUT)
        self._inbox.close()

    def _serve(self) -> None:
        while data := self._inbox.recv(64):
            for signum in data:
                self._act(signal.Signals(signum))

    def _act(self, name: signal.Signals) -> None:
        engine, received = self.engine, self.received
        if received.first is None:
            received.first = name
            logger.info(
                "received %s: stopping; running work gets up to %gs to finish; %s",
                name.name,
                engine.config.shutdown_grace,
                FORCE_HINT,
                extra={"event": "stop_requested", "signal": name.name},
            )
            engine.stop()
            return
        if received.forced_by is not None:
            return
        received.forced_by = name
        logger.warning(
            "received %s again: stopping now; the runs still going are recorded lost",
            name.name,
            extra={"event": "stop_forced", "signal": name.name},
        )
        engine.stop(force=True)
