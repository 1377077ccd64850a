"""Where a replica's metrics endpoint listens, and the error when it cannot;
importable without the ``metrics`` extra."""

from __future__ import annotations

from ..errors import SchedulerError

__all__ = ["DEFAULT_HOST", "MetricsServerError", "checked_port"]

#: Where the endpoint listens unless told: this host only.
DEFAULT_HOST = "127.0.0.1"


class MetricsServerError(SchedulerError, OSError):
    """Metrics cannot be served as asked: the port is in use or out of range, or
    ``prometheus_client`` (the ``metrics`` extra) is not installed."""


def checked_port(value: object, where: str) -> int:
    """``value`` as a TCP port (0: any free one); :class:`MetricsServerError` naming ``where``."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535:
        return value
    raise MetricsServerError(f"{where} must be a port number from 0 to 65535, got {value!r}")
