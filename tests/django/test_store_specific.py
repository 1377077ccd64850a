"""What only the Django store has to get right: query counts, locks, outages, no caching.

The shared behaviour is the contract suite's (``tests/contract``, params
``django-sqlite`` and ``django-postgres``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from scheduler.django.models import Job, Run
from scheduler.django.store import DjangoStore
from scheduler.engine import Engine
from scheduler.errors import StoreUnavailable
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import NewRun, RunStatus
from scheduler.stores.base import RecoveryReport, SlotPlan, StoredJob
from scheduler.stores.rows import job_columns
from scheduler.stores.rules import new_definition
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, RecordingExecutor

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
#: The most statements an idle wake-up may send: three MIN queries (next run,
#: pending run, end a chain has to follow), then per claim its SELECT (on SQLite
#: with BEGIN, the write lock and COMMIT, which Django logs).
MAX_IDLE_STATEMENTS = 11


def report() -> None:
    """The task the jobs here name."""


def hourly(name: str) -> JobSpec:
    return JobSpec.build(name=name, task="app.tasks.report", cron="0 * * * *")


def never(job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
    raise AssertionError(f"nothing is due, yet {job.spec.name} was planned")


def fire(job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
    assert job.next_run_at is not None
    slot = job.next_run_at
    return SlotPlan(runs=(NewRun(scheduled_for=slot, due_at=slot),), next_run_at=slot + HOUR)


def apart(job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
    """Like :func:`fire`, but job-NNNNN moves NNNNN seconds further than the others."""
    plan = fire(job, has_active_run, now)
    assert plan.next_run_at is not None
    number = int(job.spec.name.removeprefix("job-"))
    return SlotPlan(runs=plan.runs, next_run_at=plan.next_run_at + timedelta(seconds=number))


def add_jobs(alias: str, total: int, *, saved_at: datetime) -> None:
    """``total`` hourly jobs saved at ``saved_at``, each with one finished run, in batches."""
    template = job_columns(new_definition(hourly("job"), saved_at, version=1, created_at=saved_at))
    Job.objects.using(alias).bulk_create(
        Job(**{**template, "name": f"job-{number:05d}"}) for number in range(total)
    )
    finished = saved_at - HOUR
    Run.objects.using(alias).bulk_create(
        Run(job_id=job_id, scheduled_for=finished, due_at=finished, attempt=1,
            trigger="schedule", status="succeeded", finished_at=finished)
        for job_id in Job.objects.using(alias).values_list("id", flat=True)
    )  # fmt: skip
    if connections[alias].vendor == "postgresql":
        with connections[alias].cursor() as cursor:
            cursor.execute("ANALYZE scheduler_job")
            cursor.execute("ANALYZE scheduler_run")


def idle_wake_up(store: DjangoStore) -> list[str]:
    """The SQL of one wake-up with nothing due."""
    with CaptureQueriesContext(connections[store.using]) as captured:
        assert store.next_wake() == NOW + HOUR
        assert store.claim_due(now=NOW, replica_id="r1", limit=1000, plan=never) == []
        assert store.claim_pending(now=NOW, replica_id="r1", limit=1000) == []
    return [query["sql"] for query in captured.captured_queries]


def full_scans(store: DjangoStore, statements: list[str]) -> list[str]:
    """Plan lines of ``statements`` that read a whole table."""
    connection = connections[store.using]
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    lines: list[str] = []
    with connection.cursor() as cursor:
        for sql in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(explain + sql)
            lines += [str(row[-1]) for row in cursor.fetchall()]
    return [line for line in lines if "SCAN scheduler_" in line or "Seq Scan" in line]


def test_an_idle_wake_up_costs_the_same_few_indexed_queries_at_100_and_10000_jobs(
    alias: str, django_store: DjangoStore
) -> None:
    counts = {}
    for total in (100, 10_000):
        Run.objects.using(alias).all().delete()
        Job.objects.using(alias).all().delete()
        add_jobs(alias, total, saved_at=NOW)
        statements = idle_wake_up(django_store)
        counts[total] = len(statements)
    assert counts[100] == counts[10_000] <= MAX_IDLE_STATEMENTS, counts
    assert full_scans(django_store, statements) == [], statements


def test_a_claim_costs_a_few_batched_statements_not_one_per_job(
    alias: str, django_store: DjangoStore
) -> None:
    add_jobs(alias, 700, saved_at=NOW - HOUR)
    with CaptureQueriesContext(connections[alias]) as few:
        assert len(django_store.claim_due(now=NOW, replica_id="r1", limit=20, plan=fire)) == 20
    with CaptureQueriesContext(connections[alias]) as many:
        assert len(django_store.claim_due(now=NOW, replica_id="r1", limit=580, plan=fire)) == 580
    with CaptureQueriesContext(connections[alias]) as spread:  # 100 different next run times
        assert len(django_store.claim_due(now=NOW, replica_id="r1", limit=100, plan=apart)) == 100
    if alias == "postgres":
        assert len(many) == len(few) == len(spread)
    else:  # SQLite caps a statement's parameters, so Django splits big batches
        assert len(many) <= len(few) + 580 // 20, [q["sql"][:60] for q in many.captured_queries]
    assert len(django_store.list_runs(status=RunStatus.QUEUED, limit=1000)) == 700
    assert django_store.list_runs(status=RunStatus.PENDING) == []
    moved = {job.spec.name: job.next_run_at for job in django_store.list_jobs()}
    assert moved == {
        name: NOW + HOUR + (timedelta(seconds=index) if index >= 600 else timedelta(0))
        for index, name in enumerate(sorted(moved))
    }


def test_a_pending_run_a_dead_replica_had_claimed_is_released(
    alias: str, django_store: DjangoStore
) -> None:
    """Claims queue their runs, but a database may hold a run claimed and left
    ``pending`` (by an earlier version): it was never handed over, so recovery
    gives it back to the due-queue."""
    django_store.save_job(hourly("report"), now=NOW - HOUR)
    run = django_store.add_run("report", NewRun(scheduled_for=NOW - HOUR, due_at=NOW - HOUR))
    Run.objects.using(alias).filter(id=run.id).update(replica_id="dead", claimed_at=NOW - HOUR)
    report = django_store.recover(now=NOW, stale_after=timedelta(minutes=1))
    assert report == RecoveryReport(released=(run.id,))
    assert django_store.get_run(run.id) == run
    [again] = django_store.claim_pending(now=NOW, replica_id="live", limit=10)
    assert (again.run.id, again.run.status, again.run.replica_id) == (
        run.id,
        RunStatus.QUEUED,
        "live",
    )


def test_an_edit_committed_elsewhere_is_used_by_the_next_wake_up(
    alias: str, django_store: DjangoStore
) -> None:
    """Nothing is cached: an admin edit (here, a bare ORM update) reaches a
    running engine at its next wake-up, which the 1 s poll interval bounds."""
    clock = FakeClock(NOW)
    executor = RecordingExecutor(clock=clock)
    registry = TaskRegistry()
    registry.register(report, name="app.tasks.report")
    engine = Engine(
        django_store, {"default": executor}, registry=registry, clock=clock, replica_id="r1"
    )
    django_store.save_job(hourly("report"), now=NOW)  # next run at 13:00
    assert engine.tick().claimed == 0
    assert engine.config.poll_interval == 1.0
    Job.objects.using(alias).filter(name="report").update(next_run_at=NOW + timedelta(seconds=1))
    clock.advance(engine.config.poll_interval)
    assert engine.tick().claimed == 1
    assert [s.claimed.job.name for s in executor.submissions] == ["report"]
    engine.close()


def test_naive_datetimes_are_refused(django_store: DjangoStore, alias: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        django_store.save_job(hourly("report"), now=datetime(2026, 3, 1, 12))
    with pytest.raises(ValueError, match="timezone-aware"):
        list(Job.objects.using(alias).filter(next_run_at__lte=datetime(2026, 3, 1, 12)))


def test_a_database_that_cannot_be_reached_is_unavailable_then_back(
    django_sqlite: str, tmp_path: object
) -> None:
    store = DjangoStore(using=django_sqlite)
    store.save_job(hourly("report"), now=NOW)
    settings = connections[django_sqlite].settings_dict
    good = settings["NAME"]
    connections[django_sqlite].close()
    settings["NAME"] = "/nonexistent-directory/tickwork.sqlite3"
    with pytest.raises(StoreUnavailable, match="sqlite database 'sqlite' unavailable"):
        store.list_jobs()
    settings["NAME"] = good
    assert [job.spec.name for job in store.list_jobs()] == ["report"]
    store.dispose()


@pytest.mark.postgres
def test_a_postgresql_connection_killed_under_the_store_is_replaced(
    django_postgres: str,
) -> None:
    from tests.django_databases import _admin_connection

    store = DjangoStore(using=django_postgres)
    store.save_job(hourly("report"), now=NOW)
    connection = connections[django_postgres]
    pid = connection.connection.info.backend_pid  # type: ignore[union-attr]
    with _admin_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises(StoreUnavailable, match="unavailable"):
        store.list_jobs()
    assert [job.spec.name for job in store.list_jobs()] == ["report"]  # reconnected
    store.dispose()


def test_the_due_jobs_select_sorts_nothing_and_probes_the_active_runs_index(
    alias: str, django_store: DjangoStore
) -> None:
    """As on the SQLAlchemy store (tests/stores/test_claim_statements.py): the
    select stops at the limit without sorting every due job, and asks whether
    each job is busy in the partial index of active runs."""
    add_jobs(alias, 400, saved_at=NOW - HOUR)
    assert len(django_store.claim_due(now=NOW, replica_id="r1", limit=200, plan=fire)) == 200
    with CaptureQueriesContext(connections[alias]) as captured:
        django_store.claim_due(now=NOW, replica_id="r1", limit=100, plan=fire)
    # The due jobs' select comes first; the second reads which slots already have runs.
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    select, _taken = selects
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # small tables: ask whether a sort is needed
            cursor.execute("SET enable_sort = off")
            cursor.execute("SET enable_incremental_sort = off")
            cursor.execute("EXPLAIN " + select)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + select)
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
        if connection.vendor == "postgresql":
            cursor.execute("RESET enable_sort")
            cursor.execute("RESET enable_incremental_sort")
    assert "scheduler_run_active_idx" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_a_sync_locks_only_the_rows_it_may_write(alias: str, django_store: DjangoStore) -> None:
    """A sync compares each batch's stored hashes without locks, then locks
    (and compares again) only the jobs that look added or changed: an
    unchanged file of thousands of jobs writes nothing, not even row locks."""
    specs = [hourly(f"job-{number:05d}") for number in range(2_500)]
    django_store.sync_jobs(iter(specs), source=JobSource.YAML, now=NOW)
    with CaptureQueriesContext(connections[alias]) as unchanged:
        report = django_store.sync_jobs(iter(specs), source=JobSource.YAML, now=NOW + HOUR)
    assert len(report.unchanged) == 2_500 and not report.added + report.updated
    sql = [query["sql"] for query in unchanged.captured_queries]
    assert not [s for s in sql if " FOR " in s and "UPDATE" in s], sql
    writes = [s for s in sql if s.startswith(('UPDATE "scheduler_job"', 'INSERT INTO "scheduler'))]
    assert not writes, sql
    edited = [*specs[:7], specs[7].with_fields(args=[1]), *specs[8:]]
    with CaptureQueriesContext(connections[alias]) as one:
        report = django_store.sync_jobs(iter(edited), source=JobSource.YAML, now=NOW + HOUR)
    assert report.updated == ("job-00007",)
    if connections[alias].vendor != "sqlite":  # SQLite has no row locks to ask for
        locking = [q["sql"] for q in one.captured_queries if " FOR " in q["sql"]]
        assert len(locking) == 1 and "job-00007" in locking[0], locking
        assert "job-00006" not in locking[0]
