"""Settings of the worker subprocess (``manage.py db_worker``) in the django.tasks tests.

A small project of its own: the scheduler's app, django-tasks-db, and this
package's tasks.  Its only database is the test's (``TICKWORK_TEST_DJANGO_DB``,
a JSON settings dict), which holds both the run table and the task queue.
"""

from __future__ import annotations

import json
import os

SECRET_KEY = "tickwork-tests-only-not-a-secret"  # noqa: S105
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["scheduler.django", "django_tasks_db", "tests.djtasks"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {"default": json.loads(os.environ["TICKWORK_TEST_DJANGO_DB"])}
TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "reports"]}
}
SCHEDULER = {
    # Beat often, so that a killed worker is noticed within seconds.
    "HEARTBEAT_INTERVAL": float(os.environ.get("TICKWORK_TEST_HEARTBEAT", "0.5")),
    "STALE_AFTER": 3,
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"scheduler": {"handlers": ["stderr"], "level": "INFO"}},
}
