"""A sync's new jobs, inserted a batch per statement, come back field for field.

On PostgreSQL a batch of new jobs is one ``INSERT ... FROM unnest(...)``
whose varying columns travel as binary arrays and whose constant columns as
one value (:mod:`scheduler.stores.sqlalchemy.job_inserts`); elsewhere an
``executemany``.  Jobs that differ in every kind of column, with NULLs beside
values in the same column, must read back as the specs given, on each database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, select

from scheduler.model.jobs import JobSpec
from scheduler.model.notify import JobNotify
from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus
from scheduler.schedules.calendars import Calendar, DateRange
from scheduler.schedules.solar import Solar, SolarEvent
from scheduler.stores.rows import as_stored
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.stores.sqlalchemy.schema import job_table, job_upstream_table
from tests.stores.test_sqlalchemy_specific import EVERYTHING, OTHER_KINDS

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def varied() -> list[JobSpec]:
    """Jobs unlike each other in every kind of column."""
    return [
        EVERYTHING.with_fields(
            source="code",
            max_memory="512M",
            notify=JobNotify(to=("ops",), when=frozenset({RunStatus.FAILED})),
            calendar=Calendar(
                exclude=(DateRange(date(2026, 12, 25), date(2026, 12, 26)),), business_days=True
            ),
        ),
        *OTHER_KINDS,
        JobSpec.build(
            name="dusk", task="app.tasks.lights", solar=Solar(SolarEvent.SUNSET, 59.9, 10.7)
        ),
        JobSpec.build(name="after-poll", task="app.tasks.tidy", after=["interval"]),
        JobSpec.build(name="join", task="app.tasks.merge", after=["interval", "dusk"]),
        JobSpec.build(name="plain", task="app.tasks.plain", cron="*/5 * * * *"),
    ]


def test_a_batch_of_unlike_new_jobs_reads_back_as_given(sql_store: SQLAlchemyStore) -> None:
    statements: list[str] = []
    event.listen(
        sql_store.engine, "before_cursor_execute",
        lambda conn, cursor, statement, *rest: statements.append(statement),
    )  # fmt: skip
    specs = varied()
    report = sql_store.sync_jobs(specs, source=JobSource.CODE, now=NOW)
    assert sorted(report.added) == sorted(spec.name for spec in specs)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO SCHEDULER_JOB ")]
    assert len(inserts) == 1  # one statement for the batch (an executemany elsewhere)
    if sql_store.engine.dialect.name == "postgresql":
        assert "unnest(" in inserts[0]
    url = sql_store.engine.url.render_as_string(hide_password=False)
    fresh = SQLAlchemyStore(url)
    try:
        for spec in specs:
            job = fresh.get_job(spec.name)  # built from the columns, not from a cache
            assert job.spec == as_stored(spec, JobSource.CODE), spec.name
            assert job.definition_hash == job.spec.definition_hash()
            assert job.version == 1 and job.created_at == NOW
        assert fresh.get_job("everything").next_run_at is None  # disabled
        assert fresh.get_job("plain").next_run_at == datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
        with fresh.engine.connect() as conn:
            up = job_upstream_table.c
            joined = select(up.name).join(job_table, job_table.c.id == up.job_id)
            rows = conn.execute(joined.where(job_table.c.name == "join").order_by(up.position))
            assert [upstream for (upstream,) in rows] == ["interval", "dusk"]
    finally:
        fresh.dispose()
    again = sql_store.sync_jobs(varied(), source=JobSource.CODE, now=NOW)
    assert sorted(again.unchanged) == sorted(spec.name for spec in specs)


@pytest.mark.parametrize("jobs", [1, 2500])
def test_batches_of_one_and_of_many_are_each_inserted_whole(
    sql_store: SQLAlchemyStore, jobs: int
) -> None:
    specs = [
        JobSpec.build(name=f"job-{n:05d}", task="app.tasks.n", every=60 + n % 7, kwargs={"n": n})
        for n in range(jobs)
    ]
    report = sql_store.sync_jobs(specs, source=JobSource.CODE, now=NOW)
    assert len(report.added) == jobs
    stored = {job.spec.name: job for job in sql_store.list_jobs()}
    assert len(stored) == jobs
    last = specs[-1]
    assert stored[last.name].spec == as_stored(last, JobSource.CODE)
    assert stored[last.name].next_run_at == last.next_after(NOW)
