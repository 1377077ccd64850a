"""``tickwork run --metrics-port``: serving the replica's ``/metrics`` and ``/healthz``."""

from __future__ import annotations

import argparse

from ..clock import Clock
from ..engine.settings import EngineConfig
from ..monitoring.address import DEFAULT_HOST, MetricsServerError, checked_port
from ..monitoring.serving import Wiring, metrics_endpoint
from ..stores.base import RunHistory

__all__ = ["add_metrics_options", "metrics_for"]


def add_metrics_options(parser: argparse.ArgumentParser) -> None:
    """``--metrics-port`` and ``--metrics-host``."""
    parser.add_argument(
        "--metrics-port", type=_port, metavar="PORT",
        help="serve Prometheus /metrics and /healthz on this port (needs tickwork[metrics])",
    )  # fmt: skip
    parser.add_argument(
        "--metrics-host", default=DEFAULT_HOST, metavar="HOST",
        help=f"with --metrics-port: the address to listen on (default {DEFAULT_HOST})",
    )  # fmt: skip


def metrics_for(
    args: argparse.Namespace, store: RunHistory, *, clock: Clock, config: EngineConfig
) -> Wiring:
    """The endpoint of ``--metrics-port``, bound now; raises
    :class:`~scheduler.monitoring.address.MetricsServerError` (port in use,
    extra missing)."""
    if args.metrics_port is None:
        return Wiring(None)
    return Wiring(
        metrics_endpoint(
            store,
            port=args.metrics_port,
            host=args.metrics_host,
            clock=clock,
            heartbeat_interval=config.heartbeat_interval,
            poll_interval=config.poll_interval,
        )
    )


def _port(text: str) -> int:
    try:
        return checked_port(int(text), "--metrics-port")
    except (ValueError, MetricsServerError):
        raise argparse.ArgumentTypeError(f"not a port number (0-65535): {text!r}") from None
