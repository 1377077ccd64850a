"""A replica's monitoring, ready to wire: the :class:`Monitor` and its HTTP endpoint.

``tickwork run --metrics-port`` and ``manage.py run_scheduler --metrics-port``
build one :class:`Endpoint` before the engine (so a port in use stops them
before anything is claimed), give :meth:`Endpoint.after_tick` to the engine's
``after_tick`` and the engine's ``wake`` to :attr:`Endpoint.on_store_back`,
and run the engine inside ``with endpoint:``.
"""

from __future__ import annotations

from datetime import timedelta
from types import TracebackType

from ..clock import Clock
from ..stores.base import RunHistory
from .health import DEFAULT_SLACK
from .hooks import RunHooks
from .hooks import hooks as global_hooks
from .monitor import Monitor, TickFacts
from .server import DEFAULT_HOST, MetricsServer

__all__ = ["Endpoint"]


class Endpoint:
    """``/metrics`` and ``/healthz`` for the replica on ``store``, bound to ``host:port`` now.

    Raises :class:`~scheduler.monitoring.address.MetricsServerError` when the
    port cannot be bound.  ``heartbeat_interval`` and ``poll_interval`` are
    the engine's: a heartbeat may be late by a poll interval and a few
    seconds.  ``hooks`` defaults to the global ones, which the engine uses
    by default.
    """

    def __init__(
        self,
        store: RunHistory,
        *,
        port: int,
        host: str = DEFAULT_HOST,
        clock: Clock,
        heartbeat_interval: timedelta,
        poll_interval: float = 1.0,
        hooks: RunHooks | None = None,
        refresh_interval: float = 5.0,
    ) -> None:
        self.monitor = Monitor(
            store,
            hooks=global_hooks if hooks is None else hooks,
            clock=clock,
            heartbeat_interval=heartbeat_interval,
            # A heartbeat is written at the first wake-up after it is due, and
            # wake-ups may be a poll interval apart.
            slack=DEFAULT_SLACK + timedelta(seconds=poll_interval),
            refresh_interval=refresh_interval,
        )
        self.server = MetricsServer(self.monitor, port=port, host=host)

    def after_tick(self, report: TickFacts) -> None:
        """For the engine's ``after_tick``."""
        self.monitor.after_tick(report)

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address

    def __enter__(self) -> Endpoint:
        self.monitor.attach()
        self.monitor.start()
        self.server.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.server.close()
        self.monitor.close()
