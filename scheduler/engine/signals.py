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
    when the body runs it)."""
    received = SignalStop()

    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum)
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
        received.forced_by = name
        logger.warning(
            "received %s again: stopping now; the runs still going are recorded lost",
            name.name,
            extra={"event": "stop_forced", "signal": name.name},
        )
        engine.stop(force=True)

    previous = {signum: signal.signal(signum, handle) for signum in _SIGNALS}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received.forced_by is not None:
        raise ForcedStop(received.forced_by)
