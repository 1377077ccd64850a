"""Settings of the demo site.  For the demo only: DEBUG is on and the key is public.

The database is ``contrib/demo/demo.sqlite3`` unless ``DEMO_DATABASE`` names
another file; ``make demo`` creates it.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "tickwork-demo-only-not-a-secret"  # noqa: S105 - a demo on localhost
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "scheduler.django",
    "reminders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DATABASE", str(BASE_DIR / "demo.sqlite3")),
        # The scheduler and the web server write to one file: wait for each
        # other's locks rather than fail (every transaction takes the write
        # lock when it begins, so it can wait), and let readers work during a
        # write. See docs/reference/settings.md, "SQLite".
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"

SCHEDULER = {
    "SCHEDULES": BASE_DIR / "schedules.yaml",
    "EXECUTORS": {
        "default": {
            "BACKEND": "scheduler.executors.thread.ThreadExecutor",
            "OPTIONS": {"max_workers": 4},
        },
    },
    "SHUTDOWN_GRACE": 5,
    "HISTORY": {"KEEP_LAST": 500, "MAX_AGE": "7d"},
}
