"""``SCHEDULER["METRICS"]``: where the scheduler serves ``/metrics`` and ``/healthz``.

Read by :mod:`scheduler.django.settings` with the problems of every other
key: ``{"PORT": 9100, "HOST": "127.0.0.1"}``, ``HOST`` optional; no
``METRICS``, no endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ..monitoring.address import DEFAULT_HOST, MetricsServerError, checked_port

__all__ = ["read_metrics"]

_KEYS = ("PORT", "HOST")
_HINT = 'Write "METRICS": {"PORT": 9100, "HOST": "127.0.0.1"} (HOST is optional), or leave it out.'


class Problems(Protocol):
    """Where the settings reader notes what is wrong."""

    def problem(self, check_id: str, message: str, hint: str) -> None: ...

    def unknown_keys(self, raw: Mapping[Any, Any], known: tuple[str, ...], where: str) -> None: ...


def read_metrics(value: object, reader: Problems) -> dict[str, Any]:
    """``metrics_port`` and ``metrics_host`` of ``SCHEDULER["METRICS"]`` (``value``),
    those that are good; each problem noted on ``reader``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        reader.problem(
            "scheduler.E002", f"SCHEDULER['METRICS'] must be a dict, got {value!r}", _HINT
        )
        return {}
    reader.unknown_keys(value, _KEYS, "SCHEDULER['METRICS']")
    found: dict[str, Any] = {}
    try:
        found["metrics_port"] = checked_port(value.get("PORT"), "SCHEDULER['METRICS']['PORT']")
    except MetricsServerError as error:
        reader.problem("scheduler.E002", str(error), _HINT)
    host = value.get("HOST", DEFAULT_HOST)
    if isinstance(host, str) and host:
        found["metrics_host"] = host
    else:
        reader.problem(
            "scheduler.E002",
            f"SCHEDULER['METRICS']['HOST'] must be an address to listen on, got {host!r}",
            _HINT,
        )
    return found
