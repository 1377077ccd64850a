"""Building a replica's metrics endpoint, for the command lines that offer ``--metrics-port``.

:func:`metrics_endpoint` imports the endpoint (and with it ``prometheus_client``)
only when called, so ``tickwork run`` and ``manage.py run_scheduler`` work
without the ``metrics`` extra until metrics are asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..clock import Clock
from ..stores.base import RunHistory
from .address import DEFAULT_HOST, MetricsServerError
from .hooks import RunHooks

if TYPE_CHECKING:
    from .endpoint import Endpoint

__all__ = ["DEFAULT_HOST", "MetricsServerError", "Wiring", "metrics_endpoint"]


class Wiring:
    """What a runner wires into its engine: an endpoint's hooks, or nothing
    when no metrics port was asked for."""

    def __init__(self, endpoint: Endpoint | None) -> None:
        self.endpoint = endpoint

    @property
    def after_tick(self) -> Sequence[Callable[[Any], object]]:
        """For the engine's ``after_tick``."""
        return () if self.endpoint is None else (self.endpoint.after_tick,)

    def wake_with(self, wake: Callable[[], object]) -> None:
        """Let the monitor wake the engine when the store answers after an outage."""
        if self.endpoint is not None:
            self.endpoint.monitor.on_store_back = wake

    def serving(self) -> AbstractContextManager[object]:
        return nullcontext() if self.endpoint is None else self.endpoint


def metrics_endpoint(
    store: RunHistory,
    *,
    port: int,
    host: str = DEFAULT_HOST,
    clock: Clock,
    heartbeat_interval: timedelta,
    poll_interval: float = 1.0,
    hooks: RunHooks | None = None,
) -> Endpoint:
    """An :class:`~scheduler.monitoring.endpoint.Endpoint` bound to ``host:port``.

    Raises :class:`MetricsServerError` when ``prometheus_client`` is missing
    (naming the extra to install) or the port cannot be bound.
    """
    try:
        from .endpoint import Endpoint
    except ImportError as error:
        raise MetricsServerError(
            f"--metrics-port needs prometheus_client: pip install 'tickwork[metrics]' ({error})"
        ) from error
    return Endpoint(
        store,
        port=port,
        host=host,
        clock=clock,
        heartbeat_interval=heartbeat_interval,
        poll_interval=poll_interval,
        hooks=hooks,
    )
