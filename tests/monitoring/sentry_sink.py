"""A local Sentry: an HTTP server on 127.0.0.1 that keeps the envelopes the real SDK sends.

Nothing here talks to the internet.  The SDK is given the DSN
``http://public@127.0.0.1:PORT/1`` and posts envelopes to
``/api/1/envelope/`` (gzip-compressed, by default); the sink decodes them
item by item and keeps the ``check_in`` ones, whose payloads are JSON.

Fixtures (import ``sink_fixture`` and ``client_fixture`` into a test module):
``sentry_sink`` (the server) and ``sentry_client`` (the SDK
initialised in this process on that sink, without integrations, and
uninitialised afterwards so nothing leaks into other tests).
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

#: Seconds to wait for check-ins from another process; reached only when failing.
WAIT = 30.0


class Sink:
    """The server and what it received."""

    def __init__(self) -> None:
        self.items: list[tuple[dict[str, Any], bytes]] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the SDK's transport posts each envelope
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding:
                    raise AssertionError(f"the sink cannot read {encoding!r} bodies")
                sink.receive(self.path, body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self.port}/1"

    def receive(self, path: str, envelope: bytes) -> None:
        items = list(parse_envelope(envelope))
        with self._lock:
            self.paths.append(path)
            self.items.extend(items)

    def checkins(self) -> list[dict[str, Any]]:
        """The check-in payloads received so far, in order of arrival."""
        with self._lock:
            return [
                json.loads(payload)
                for header, payload in self.items
                if header.get("type") == "check_in"
            ]

    def wait_for_checkins(self, count: int, timeout: float = WAIT) -> list[dict[str, Any]]:
        """Poll until at least ``count`` check-ins arrived (from another process)."""
        deadline = time.monotonic() + timeout
        while len(found := self.checkins()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} check-ins after {timeout:g}s: {found}")
            time.sleep(0.05)
        return found

    def __enter__(self) -> Sink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def parse_envelope(data: bytes) -> Iterator[tuple[dict[str, Any], bytes]]:
    """The (header, payload) of each item of a Sentry envelope.

    An envelope is a JSON header line, then per item a JSON header line and
    a payload: ``length`` bytes when the header gives a length, else up to
    the next newline.
    """
    _, _, rest = data.partition(b"\n")
    while rest.strip():
        line, _, rest = rest.partition(b"\n")
        header = json.loads(line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"] :]
            rest = rest.removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        yield header, payload


def uninitialise_sentry() -> None:
    """Flush and close the SDK's client, and leave the process without one."""
    import sentry_sdk

    client = sentry_sdk.get_client()
    if client.is_active():
        client.flush(timeout=5)
        client.close(timeout=5)
    sentry_sdk.get_global_scope().set_client(None)


@pytest.fixture(name="sentry_sink")
def sink_fixture() -> Iterator[Sink]:
    with Sink() as sink:
        yield sink


@pytest.fixture(name="sentry_client")
def client_fixture(sentry_sink: Sink) -> Iterator[Sink]:
    """The SDK initialised on the sink (no integrations: nothing patched process-wide)."""
    import sentry_sdk

    sentry_sdk.init(
        dsn=sentry_sink.dsn,
        default_integrations=False,
        auto_enabling_integrations=False,
        environment="tests",
    )
    try:
        yield sentry_sink
    finally:
        uninitialise_sentry()
