"""Django settings for the test suite (``DJANGO_SETTINGS_MODULE`` in pyproject.toml).

``default`` is SQLite, for pytest-django's ``db`` fixture.  ``sqlite`` and
``postgres`` are pointed at a new, migrated database for each test that asks
for one (``tests/django/support.py``): the contract suite's ``django-sqlite``
and ``django-postgres`` stores, and the app's own tests.  PostgreSQL is found
where ``TICKWORK_TEST_POSTGRES`` says (default
``postgresql://postgres@127.0.0.1:5432/postgres``, trust auth), as for the
SQLAlchemy store's tests.  ``mariadb`` is Django's MySQL backend on the
MariaDB server ``TICKWORK_TEST_MARIADB`` names (``tests/mariadb_databases.py``),
through PyMySQL standing in for mysqlclient (``pymysql.install_as_MySQLdb()``:
mysqlclient needs the MariaDB client headers to build, which the test machines
lack; Django's backend works with either).
"""

from __future__ import annotations

import importlib.util
import os
from urllib.parse import unquote, urlsplit

_POSTGRES = urlsplit(
    os.environ.get("TICKWORK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
)
_MARIADB = urlsplit(os.environ.get("TICKWORK_TEST_MARIADB", "mysql://root@127.0.0.1:3306/"))

SECRET_KEY = "tickwork-tests-only-not-a-secret"  # noqa: S105
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "scheduler.django",
    "tests.django.testapp",  # its tasks module has @job tasks to discover
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The admin's tests create users by the dozen, and Django's default hasher spends
# a third of a second on each password (PBKDF2, a million rounds).  Passwords are
# still hashed and checked; only the work factor, which no test is about, is cut.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The admin (tests/django/admin/): its pages, sessions and messages.
ROOT_URLCONF = "tests.django_urls"
STATIC_URL = "/static/"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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

try:  # for scheduler_import_celery_beat's tests, which read its real models
    import django_celery_beat  # noqa: F401
except ImportError:  # pragma: no cover - the test extras install it
    pass
else:
    INSTALLED_APPS.append("django_celery_beat")

if importlib.util.find_spec("background_task"):
    # scheduler_import_background_tasks' tests read django-background-tasks' real tables.
    INSTALLED_APPS.append("background_task")

if importlib.util.find_spec("django_tasks_db"):
    # The django.tasks executor's tests (tests/djtasks/): django-tasks-db as the
    # backend, its table in the database of the test at hand.
    INSTALLED_APPS.append("django_tasks_db")
    TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "reports"]}
    }
    DATABASE_ROUTERS = ["tests.djtasks.routing.TasksRouter"]

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    # NAME is set per test, to a fresh database.
    "sqlite": {"ENGINE": "django.db.backends.sqlite3", "NAME": ""},
    "postgres": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": _POSTGRES.hostname or "127.0.0.1",
        "PORT": str(_POSTGRES.port or 5432),
        "USER": unquote(_POSTGRES.username or "postgres"),
        "PASSWORD": unquote(_POSTGRES.password or ""),
        "NAME": "",
        "OPTIONS": {"connect_timeout": 5},
    },
}

if importlib.util.find_spec("MySQLdb") is None and importlib.util.find_spec("pymysql"):
    import pymysql

    pymysql.install_as_MySQLdb()
DATABASES["mariadb"] = {
    "ENGINE": "django.db.backends.mysql",
    "HOST": _MARIADB.hostname or "127.0.0.1",
    "PORT": str(_MARIADB.port or 3306),
    "USER": unquote(_MARIADB.username or "root"),
    "PASSWORD": unquote(_MARIADB.password or ""),
    "NAME": "",
    "OPTIONS": {"charset": "utf8mb4", "connect_timeout": 5},
}

SCHEDULER: dict[str, object] = {}
