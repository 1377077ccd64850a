"""The Celery app of the integration tests' workers (``celery -A tests.celery.worker_app``).

Configured from the environment by the test that starts the worker:
``TICKWORK_TEST_BROKER`` (broker URL), ``TICKWORK_DATABASE`` (the run store)
and ``TICKWORK_TEST_HEARTBEAT`` (seconds between run heartbeats); with
``TICKWORK_TEST_SENTRY_CRONS`` set, the worker sends Sentry Crons check-ins to
``$SENTRY_DSN``.  The test process imports it too, for the registered tasks and
for :func:`make_app`.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded

import scheduler.workers.celery
from scheduler.model.runs import RunContext
from scheduler.tasks.registry import job


@job
def add(a: int, b: int) -> dict[str, int]:
    return {"sum": a + b}


@job
def explode(message: str) -> None:
    raise ValueError(message)


@job
def sleep(seconds: float, mark: str = "") -> str:
    """Sleeps; writes ``mark`` first, so a test can wait for the start (a state, not a time)."""
    if mark:
        Path(mark).write_text(str(os.getpid()))
    time.sleep(seconds)
    return "woke up"


@job
def stubborn(seconds: float) -> str:
    """Ignores the soft time limit, so only the hard one can stop it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            time.sleep(deadline - time.monotonic())
        except SoftTimeLimitExceeded:
            continue
    return "outlived its limits"


@job
def count_calls(path: str) -> int:
    """Appends a line per execution, so a test can count executions."""
    with Path(path).open("a") as marks:
        marks.write(f"{os.getpid()}\n")
    return len(Path(path).read_text().splitlines())


@job(takes_context=True)
async def which_slot(context: RunContext) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"run_id": context.run_id, "attempt": context.attempt}


def make_app(broker: str) -> Celery:
    """An app on ``broker`` that knows the plain Celery tasks below."""
    app = Celery("tickwork_tests", broker=broker)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )

    @app.task(name="tests.plain.multiply", shared=False)
    def multiply(a: int, b: int) -> int:
        return a * b

    @app.task(name="tests.plain.fail", shared=False)
    def fail(message: str) -> None:
        raise RuntimeError(message)

    @app.task(name="tests.plain.second_try", shared=False, bind=True)
    def second_try(self: Any) -> str:
        if self.request.retries == 0:
            raise self.retry(countdown=0)
        return f"succeeded on try {self.request.retries + 1}"

    return app


app = make_app(os.environ.get("TICKWORK_TEST_BROKER", "memory://"))

if os.environ.get("TICKWORK_DATABASE"):
    scheduler.workers.celery.install(
        app, heartbeat_interval=float(os.environ.get("TICKWORK_TEST_HEARTBEAT", "10"))
    )
    if os.environ.get("TICKWORK_TEST_SENTRY_CRONS"):  # in the worker, not the test process
        # What a worker without Django does to send Sentry Crons check-ins ($SENTRY_DSN).
        from scheduler.monitoring.sentry import enable

        enable()
