"""The hourly prune stays linear on PostgreSQL however much history there is.

Deleting "beyond the newest N of its job, or finished before the age limit"
in one statement, ``id IN (ranked subquery) OR finished_at < ...``, keeps
PostgreSQL from running the ``IN`` as a semi-join; once the subquery's result
no longer fits ``work_mem`` the plan re-reads it for every row of the table,
and a prune of a million runs ran for more than ten minutes.  Each rule is
its own ``DELETE``.  Here ``work_mem`` is made tiny, so that a few thousand
runs are enough to show the difference: the quadratic plan takes minutes,
the linear one well under a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from scheduler.stores.base import Store
from tests.contract.helpers import hourly
from tests.partitioned_runs import django_dsn, dsn

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.serial,
    pytest.mark.one_leg,
]  # the prune must take under 10 s

JOBS = 20
RUNS_PER_JOB = 1000
END = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlalchemy", "django"])
def store_and_dsn(request: pytest.FixtureRequest) -> Iterator[tuple[Callable[[], Store], str]]:
    made: list[Store] = []
    if request.param == "sqlalchemy":
        from scheduler.stores.sqlalchemy import SQLAlchemyStore

        url: str = request.getfixturevalue("postgres_url")
        conninfo = dsn(url)

        def new_store() -> Store:
            store = SQLAlchemyStore(url)
            store.create_schema()
            made.append(store)
            return store
    else:
        from scheduler.django.store import DjangoStore

        alias: str = request.getfixturevalue("django_postgres")
        conninfo = django_dsn(alias)

        def new_store() -> Store:
            from django.db import connections

            connections[alias].close()  # the next query opens a new connection
            made.append(DjangoStore(using=alias))
            return made[-1]

    yield new_store, conninfo
    for store in made:
        dispose = getattr(store, "dispose", None)
        if dispose is not None:
            dispose()


def test_pruning_a_large_history_is_not_quadratic(
    store_and_dsn: tuple[Callable[[], Store], str],
) -> None:
    new_store, conninfo = store_and_dsn
    store = new_store()
    for number in range(JOBS):
        store.save_job(hourly(f"job-{number}"), now=END)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO scheduler_run (job_id, scheduled_for, due_at, attempt, trigger, "
            "status, finished_at, error, traceback, executor, external_id, replica_id, worker) "
            "SELECT job.id, slot, slot, 1, 'schedule', 'succeeded', slot, '', '', 'default', "
            "'', 'r1', 'host:1' FROM scheduler_job AS job, generate_series(1, %(runs)s) AS m, "
            "LATERAL (SELECT %(end)s - make_interval(mins => m) AS slot) AS slots",
            {"end": END, "runs": RUNS_PER_JOB},
        )
        conn.execute("ANALYZE scheduler_run")
        # The database's setting, so that the store's own connections have it.
        database = conn.execute("SELECT current_database()").fetchone()
        assert database is not None
        conn.execute(f"ALTER DATABASE \"{database[0]}\" SET work_mem = '64kB'")
    store = new_store()  # connections opened after the change

    started = time.perf_counter()
    deleted = store.prune(now=END, keep_last=10, max_age=timedelta(days=30))
    took = time.perf_counter() - started

    assert deleted == JOBS * (RUNS_PER_JOB - 10)
    assert took < 10, f"pruning {deleted} runs took {took:.1f} s"
