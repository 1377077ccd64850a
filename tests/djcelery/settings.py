"""Settings of a small Django project whose Celery worker and ``run_scheduler`` run as
subprocesses in the tests: its database is the test's (``TICKWORK_TEST_DJANGO_DB``,
a JSON settings dict), its broker and queue the test's too."""

from __future__ import annotations

import json
import os

SECRET_KEY = "tickwork-tests-only-not-a-secret"  # noqa: S105
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["scheduler.django", "tests.djcelery"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {"default": json.loads(os.environ.get("TICKWORK_TEST_DJANGO_DB", "{}"))}

CELERY_BROKER_URL = os.environ.get("TICKWORK_TEST_BROKER", "memory://")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

SCHEDULER = {
    "EXECUTORS": {
        "default": {"BACKEND": "scheduler.executors.thread.ThreadExecutor"},
        "celery": {
            "BACKEND": "scheduler.executors.celery.CeleryExecutor",
            "OPTIONS": {
                "app": "tests.djcelery.celery_app.app",
                "queue": os.environ.get("TICKWORK_TEST_QUEUE", "celery"),
            },
        },
    },
    "HEARTBEAT_INTERVAL": 0.5,
    "STALE_AFTER": 3,
}
