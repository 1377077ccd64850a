"""A local HTTP receiver for notifier tests: records each POST, answers as scripted.

``answers`` are the status codes of the next requests, in order (then 200);
while ``hold`` is clear, each request waits for it inside the handler, so a
test can see that recording a run does not wait for the receiver.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Sink", "running_sink"]


@dataclass
class Sink:
    url: str = ""
    answers: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.answers.pop(0) if self.answers else 200


@contextmanager
def running_sink(*, held: bool = False) -> Iterator[Sink]:
    sink = Sink()
    if not held:
        sink.hold.set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with sink.lock:
                sink.received.append(json.loads(body))
                sink.headers.append(dict(self.headers))
            sink.arrived.set()
            sink.hold.wait(30)
            self.send_response(sink.answer())
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sink.url = f"http://127.0.0.1:{server.server_port}/hook"
    try:
        yield sink
    finally:
        sink.hold.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
