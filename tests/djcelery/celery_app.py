"""The project's Celery app, set up the way Celery's Django guide does it, plus Tickwork.

``celery -A tests.djcelery.celery_app worker`` starts a worker inside the
Django project: Celery's Django fix-up sets Django up, the scheduler's app
registers the Django store as where workers record, and ``install`` is given
no database at all.
"""

from __future__ import annotations

import os

from celery import Celery

import scheduler.workers.celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.djcelery.settings")

app = Celery("tickwork_django_tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()  # imports each installed app's tasks module, so @job runs
scheduler.workers.celery.install(app, heartbeat_interval=0.5)
