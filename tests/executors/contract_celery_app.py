"""The Celery app of the executor contract's worker
(``celery -A tests.executors.contract_celery_app worker``).

Configured from the environment by the fixture that starts the worker:
``TICKWORK_TEST_BROKER`` (broker URL), ``TICKWORK_DATABASE`` (the run store
the engine shares) and ``TICKWORK_TEST_HEARTBEAT`` (seconds between run
heartbeats).  The test process builds its sending app with :func:`make_app`.
"""

from __future__ import annotations

import os

from celery import Celery

import scheduler.workers.celery
import tests.executors.contract_tasks  # noqa: F401  (registers the contract's tasks)


def make_app(broker: str) -> Celery:
    """An app on ``broker`` that sends and accepts JSON only."""
    app = Celery("tickwork_contract", broker=broker)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    return app


app = make_app(os.environ.get("TICKWORK_TEST_BROKER", "memory://"))

if os.environ.get("TICKWORK_DATABASE"):
    scheduler.workers.celery.install(
        app, heartbeat_interval=float(os.environ.get("TICKWORK_TEST_HEARTBEAT", "10"))
    )
