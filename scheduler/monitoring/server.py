"""The HTTP endpoint of a replica: ``GET /metrics`` and ``GET /healthz``.

``/metrics`` answers the replica's metrics in the Prometheus text format;
``/healthz`` answers 200 ``{"status": "ok", ...}`` when the replica is
healthy and 503 ``{"status": "unhealthy", "reasons": [...], ...}`` when not
(the rules are in :mod:`scheduler.monitoring.health`); any other path is
404, any other method 405.

:class:`MetricsServer` binds its port when it is built, so a port in use
fails (:class:`MetricsServerError`) before the engine claims anything; it
serves from a daemon thread once started.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .address import DEFAULT_HOST, MetricsServerError, checked_port
from .metrics import CONTENT_TYPE
from .monitor import Monitor

__all__ = ["DEFAULT_HOST", "MetricsServer", "MetricsServerError"]

logger = logging.getLogger(__name__)


class MetricsServer:
    """``/metrics`` and ``/healthz`` of ``monitor`` on ``host:port`` (port 0: any free one)."""

    def __init__(self, monitor: Monitor, *, port: int, host: str = DEFAULT_HOST) -> None:
        port = checked_port(port, "the metrics port")
        try:
            self._server = _Server((host, port), _Handler)
        except OSError as error:
            raise MetricsServerError(
                f"cannot serve metrics on {host}:{port}: {error.strerror or error}"
            ) from error
        self._server.monitor = monitor
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The host and port it listens on (the port chosen, when 0 was given)."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Serve requests in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="tickwork-metrics", daemon=True
        )
        self._thread.start()
        host, port = self.address
        logger.info(
            "serving /metrics and /healthz on http://%s:%d",
            host,
            port,
            extra={"event": "metrics_serving", "host": host, "port": port},
        )

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    monitor: Monitor


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, self.server.monitor.metrics.render(), CONTENT_TYPE)
        elif path == "/healthz":
            report = self.server.monitor.healthz()
            body = json.dumps(report.as_json()).encode()
            self._send(200 if report.healthy else 503, body, "application/json")
        else:
            self._send(404, b"not found: try /metrics or /healthz\n", "text/plain")

    def do_POST(self) -> None:
        self._send(405, b"only GET\n", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)
