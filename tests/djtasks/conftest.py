"""Fixtures of the django.tasks tests: a world around a real django-tasks-db worker.

django-tasks-db (and, on Django 5.2, the django-tasks backport) come with the
test extras.  Without them these tests are skipped with the reason, or fail
under ``CI=true``, where the test legs install them.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from scheduler.clock import SystemClock

if TYPE_CHECKING:
    from .harness import World


def require_backend() -> None:
    """Skip the calling test module without django-tasks-db; under ``CI=true``, fail it."""
    framework = importlib.util.find_spec("django.tasks") or importlib.util.find_spec("django_tasks")
    if framework is not None and importlib.util.find_spec("django_tasks_db") is not None:
        return
    message = (
        "django-tasks-db (and on Django 5.2 the django-tasks backport) is not installed: "
        "pip install -e '.[test]' to run the django.tasks tests"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message, allow_module_level=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def alias(request: pytest.FixtureRequest) -> str:
    """A migrated Django database of each kind in turn: a new SQLite file, or the
    session's PostgreSQL database with django-tasks-db's table too, put back into
    its template's state (``tests/django_databases.py``)."""
    fixture = "django_sqlite" if request.param == "sqlite" else "shared_django_postgres_tasks"
    found: str = request.getfixturevalue(fixture)
    return found


@pytest.fixture
def world(alias: str, tmp_path: Path) -> Iterator[World]:
    """A database, an engine enqueueing into django-tasks-db, and a running db_worker."""
    from .harness import close_world, new_world

    made = new_world(alias, tmp_path, SystemClock())
    try:
        yield made
    finally:
        close_world(made)
