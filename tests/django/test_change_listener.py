"""LISTEN/NOTIFY through the Django store: an admin edit wakes a sleeping scheduler,
whichever store (Django or SQLAlchemy) the scheduler runs on.

Waits are bounded by a generous timeout, never a sleep; "nothing woke it" is
checked by waiting a short while for something that must not happen.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from scheduler.django.store import DjangoStore
from scheduler.model.jobs import JobSpec
from scheduler.stores.base import ChangeListener
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from tests.django.conftest import sqlalchemy_url

PATIENCE = 20.0
QUIET = 0.3
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def report(**options: object) -> JobSpec:
    return JobSpec.build(name="report", task="app.tasks.report", cron="0 3 * * *", **options)


@pytest.fixture
def listener(django_postgres: str) -> Iterator[ChangeListener]:
    store = DjangoStore(using=django_postgres)
    found = store.listen_for_changes()
    assert found is not None
    try:
        yield found
    finally:
        found.close()
        store.dispose()


@pytest.mark.postgres
def test_a_django_edit_wakes_a_django_listener(
    listener: ChangeListener, django_postgres: str
) -> None:
    store = DjangoStore(using=django_postgres)
    assert listener.wait(QUIET) is False
    store.save_job(report(), now=NOW)
    assert listener.wait(PATIENCE) is True
    store.save_job(report(), now=NOW)  # the same definition: nothing changed, no wake-up
    assert listener.wait(QUIET) is False
    store.set_paused("report", True, now=NOW)
    assert listener.wait(PATIENCE) is True


@pytest.mark.postgres
def test_a_django_edit_wakes_a_standalone_scheduler_and_the_reverse(
    listener: ChangeListener, django_postgres: str
) -> None:
    standalone = SQLAlchemyStore(sqlalchemy_url(django_postgres))
    theirs = standalone.listen_for_changes()
    assert theirs is not None
    try:
        DjangoStore(using=django_postgres).save_job(report(), now=NOW)
        assert theirs.wait(PATIENCE) is True
        assert listener.wait(PATIENCE) is True
        standalone.set_paused("report", True, now=NOW)
        assert listener.wait(PATIENCE) is True
    finally:
        theirs.close()
        standalone.dispose()


def test_sqlite_cannot_notify(django_sqlite: str) -> None:
    assert DjangoStore(using=django_sqlite).listen_for_changes() is None
