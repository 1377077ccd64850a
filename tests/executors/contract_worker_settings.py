"""Settings of the executor contract's ``manage.py db_worker`` (django-tasks-db).

Those of the django.tasks tests' worker (``tests.djtasks.worker_settings``:
its database from ``TICKWORK_TEST_DJANGO_DB``, django-tasks-db as the
``default`` backend), plus the contract's tasks, allow-listed as a project
would allow a module of its own.
"""

from __future__ import annotations

from tests.djtasks.worker_settings import *  # noqa: F403
from tests.djtasks.worker_settings import SCHEDULER as _BASE

SCHEDULER = {**_BASE, "TASKS": ["tests.executors.contract_tasks.*"]}
