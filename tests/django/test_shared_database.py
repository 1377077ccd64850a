"""A standalone ``tickwork run`` and a Django site share one database.

The SQLAlchemy store works on the tables the Django migration made, the
Django store reads what the SQLAlchemy store wrote and the other way round, and
the unique slot constraint holds across the two (on SQLite that needs both to
write instants as the same text).  Also: tables ``tickwork run`` created first
are adopted with ``migrate --fake-initial``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from sqlalchemy import text

from scheduler.django.store import DjangoStore
from scheduler.errors import DuplicateRun
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import NewRun, Outcome, RunStatus
from scheduler.stores.base import SlotPlan, StoredJob
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from tests.django_databases import pointed_at

from .conftest import sqlalchemy_url

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def hourly(name: str, **options: object) -> JobSpec:
    return JobSpec.build(name=name, task="app.tasks.report", cron="0 * * * *", **options)  # type: ignore[arg-type]


def fire(job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
    assert job.next_run_at is not None
    slot = job.next_run_at
    return SlotPlan(runs=(NewRun(scheduled_for=slot, due_at=slot),), next_run_at=slot + HOUR)


@pytest.fixture
def standalone(alias: str) -> Iterator[SQLAlchemyStore]:
    """The SQLAlchemy store on the database the Django migration created."""
    store = SQLAlchemyStore(sqlalchemy_url(alias))
    try:
        yield store
    finally:
        store.dispose()


def test_the_django_store_reads_what_the_sqlalchemy_store_wrote(
    standalone: SQLAlchemyStore, django_store: DjangoStore
) -> None:
    spec = JobSpec.build(
        name="everything",
        task="app.tasks.report",
        cron="H 2 * * 1-5",
        timezone="Europe/Berlin",
        args=[1, 2.5, "drei", None],
        kwargs={"nested": {"deep": [1, {"k": None}]}},
        start=datetime(2026, 1, 1, tzinfo=UTC),
        catchup_window=timedelta(hours=6),
        jitter=timedelta(seconds=0.25),
        source=JobSource.ADMIN,
    )
    saved = standalone.save_job(spec, now=NOW)
    standalone.save_job(hourly("report"), now=NOW - HOUR)
    [claimed] = standalone.claim_due(now=NOW, replica_id="standalone", limit=10, plan=fire)
    assert standalone.mark_running(claimed.run.id, worker="host:1", now=NOW)
    outcome = Outcome(status=RunStatus.SUCCEEDED, finished_at=NOW + HOUR / 2, result={"rows": 3})
    standalone.mark_finished(claimed.run.id, outcome)

    assert django_store.get_job("everything") == saved
    assert django_store.list_jobs() == standalone.list_jobs()
    assert django_store.list_runs() == standalone.list_runs()
    run = django_store.get_run(claimed.run.id)
    assert (run.status, run.result, run.duration) == (RunStatus.SUCCEEDED, {"rows": 3}, 1800.0)
    assert django_store.next_wake() == NOW + HOUR


def test_the_sqlalchemy_store_reads_what_the_django_store_wrote(
    standalone: SQLAlchemyStore, django_store: DjangoStore
) -> None:
    django_store.sync_jobs(
        [hourly("report", source=JobSource.YAML)], source=JobSource.YAML, now=NOW - HOUR
    )
    [claimed] = django_store.claim_due(now=NOW, replica_id="django", limit=10, plan=fire)
    django_store.mark_finished(
        claimed.run.id, Outcome(status=RunStatus.FAILED, finished_at=NOW, error="boom")
    )
    django_store.heartbeat("django", hostname="web-1", pid=7, now=NOW)

    assert standalone.list_jobs() == django_store.list_jobs()
    assert standalone.get_run(claimed.run.id) == django_store.get_run(claimed.run.id)
    assert standalone.get_run(claimed.run.id).error == "boom"
    assert standalone.next_wake() == NOW + HOUR
    # The replica row too: the standalone store's recovery sees it alive.
    assert standalone.recover(now=NOW, stale_after=timedelta(seconds=60)).lost == ()


def test_a_slot_claimed_by_one_store_cannot_be_claimed_by_the_other(
    standalone: SQLAlchemyStore, django_store: DjangoStore
) -> None:
    standalone.save_job(hourly("report"), now=NOW - HOUR)
    assert [
        c.run.scheduled_for
        for c in django_store.claim_due(now=NOW, replica_id="django", limit=10, plan=fire)
    ] == [NOW]
    # The standalone store sees the slot taken (same text on SQLite), both ways.
    with pytest.raises(DuplicateRun):
        standalone.add_run("report", NewRun(scheduled_for=NOW, due_at=NOW))
    standalone.add_run("report", NewRun(scheduled_for=NOW + HOUR, due_at=NOW + HOUR))
    with pytest.raises(DuplicateRun):
        django_store.add_run("report", NewRun(scheduled_for=NOW + HOUR, due_at=NOW + HOUR))
    # Due at a whole second, written by one store, due for the other to the microsecond.
    [pending] = django_store.claim_pending(now=NOW + HOUR, replica_id="django", limit=10)
    assert pending.run.scheduled_for == NOW + HOUR


def test_sqlite_instants_are_written_in_the_sqlalchemy_stores_text(django_sqlite: str) -> None:
    store = DjangoStore(using=django_sqlite)
    store.save_job(hourly("report"), now=NOW)
    store.dispose()
    standalone = SQLAlchemyStore(sqlalchemy_url(django_sqlite))
    try:
        with standalone.engine.connect() as conn:
            raw = conn.execute(text("SELECT next_run_at, created_at FROM scheduler_job")).one()
    finally:
        standalone.dispose()
    assert tuple(raw) == ("2026-03-01 13:00:00.000000", "2026-03-01 12:00:00.000000")


def test_tables_made_by_tickwork_run_are_adopted_with_fake_initial(
    tmp_path: Path, django_db_blocker: object
) -> None:
    path = tmp_path / "standalone.sqlite3"
    standalone = SQLAlchemyStore(f"sqlite:///{path}")
    standalone.create_schema()
    standalone.save_job(hourly("report"), now=NOW)
    standalone.save_job(hourly("other"), now=NOW)
    join = JobSpec.build(name="load", task="app.tasks.load", after=["report", "other"])
    standalone.save_job(join, now=NOW)
    standalone.dispose()
    with django_db_blocker.unblock(), pointed_at("sqlite", str(path)):  # type: ignore[attr-defined]
        # 0013 finds the join's column and table there already, and keeps them.
        call_command("migrate", "scheduler", database="sqlite", fake_initial=True, verbosity=0)
        store = DjangoStore(using="sqlite")
        assert [job.spec.name for job in store.list_jobs()] == ["load", "other", "report"]
        assert store.get_job("load").spec.after == ("report", "other")
        for name in ("other", "report"):
            run = store.add_run(name, NewRun(scheduled_for=NOW, due_at=NOW))
            store.mark_finished(run.id, Outcome(status=RunStatus.SUCCEEDED, finished_at=NOW))
            # An end of the second upstream is found by the rows tickwork run wrote.
            assert store.next_wake() == NOW
        [made] = store.follow_chains(now=NOW, limit=10)
        assert made.job_name == "load"
        store.dispose()
