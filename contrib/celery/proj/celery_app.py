"""The Celery app of the example: workers start with ``celery -A proj.celery_app worker``.

The scheduler imports it too (``--celery-app proj.celery_app.app``), for the
broker settings; only the workers execute anything.
"""

from __future__ import annotations

import os

from celery import Celery

import scheduler.workers.celery

app = Celery("proj", broker=os.environ.get("TICKWORK_BROKER", "redis://127.0.0.1:6379/0"))
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=1,  # long jobs: do not hoard messages another worker could run
)

import proj.jobs  # noqa: E402, F401  registers the @job functions the schedules name

# The database: $TICKWORK_DATABASE, which the scheduler reads too.
scheduler.workers.celery.install(app)
