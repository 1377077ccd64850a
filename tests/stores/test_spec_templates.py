"""Jobs that share a definition but for their name are built from one template spec.

The spec cache builds the first such job column by column and the others as
copies under their own names; each copy must equal what reading its row on
its own gives (its cron keyed by its name, so ``H`` lands where it should),
and must not share mutable JSON arguments with the template.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from scheduler.model.jobs import JobSpec
from scheduler.schedules import Cron
from scheduler.stores.rows import spec_from_columns
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.stores.sqlalchemy.schema import job_table
from scheduler.stores.sqlalchemy.specs import SpecCache

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("cron", ["*/5 * * * *", "H H * * *", "0 9 * * THU"])
def test_copies_equal_their_rows_read_alone(cron: str) -> None:
    store = SQLAlchemyStore("sqlite://")
    store.create_schema()
    for name in ("alpha", "beta", "gamma"):
        spec = JobSpec.build(
            name=name,
            task="app.tasks.report",
            cron=cron,
            timezone="Europe/Berlin",
            args=[[1, 2]],
            kwargs={"to": ["ops"]},
        )
        store.save_job(spec, now=NOW)
    with store.engine.connect() as conn:
        rows = conn.execute(select(job_table).order_by(job_table.c.name)).mappings().all()
    cache = SpecCache(100)

    specs = [cache.get(row) for row in rows]

    assert specs == [spec_from_columns(row) for row in rows]
    assert [spec.name for spec in specs] == ["alpha", "beta", "gamma"]
    assert all(isinstance(s.schedule, Cron) and s.schedule.hash_key == s.name for s in specs)
    assert [s.schedule.next_after(NOW) for s in specs] == [
        Cron(cron, tz="Europe/Berlin", hash_key=s.name).next_after(NOW) for s in specs
    ]
    first, second = specs[0], specs[1]
    assert first.args == second.args and first.args[0] is not second.args[0]
    assert first.kwargs == second.kwargs and first.kwargs is not second.kwargs
    assert first.policy is second.policy  # shared: frozen, and the same for every copy
    store.dispose()


def test_a_job_that_differs_in_its_definition_gets_its_own_spec() -> None:
    store = SQLAlchemyStore("sqlite://")
    store.create_schema()
    store.save_job(JobSpec.build(name="a", task="app.t", cron="* * * * *"), now=NOW)
    store.save_job(JobSpec.build(name="b", task="app.t", cron="*/2 * * * *"), now=NOW)
    with store.engine.connect() as conn:
        rows = conn.execute(select(job_table).order_by(job_table.c.name)).mappings().all()
    cache = SpecCache(100)

    specs = [cache.get(row) for row in rows]

    assert [spec.schedule for spec in specs] == [
        Cron("* * * * *", hash_key="a"),
        Cron("*/2 * * * *", hash_key="b"),
    ]
    store.dispose()


def test_every_column_of_a_definition_but_the_name_decides_what_is_shared() -> None:
    # A column left out of SHARED_DEFINITION would let two jobs that differ in it
    # share one spec (a calendar, a solar schedule): the list must cover them all.
    from scheduler.stores.rows.jobs import SHARED_DEFINITION, job_columns
    from scheduler.stores.sqlalchemy.schema import job_columns as schema_job_columns

    assert schema_job_columns is job_columns
    spec = JobSpec.build(name="a", task="app.tasks.report", cron="0 9 * * *")
    store = SQLAlchemyStore("sqlite://")
    store.create_schema()
    stored = store.save_job(spec, now=NOW)
    bookkeeping = {
        "name", "definition_hash", "next_run_at", "paused_at", "removed_at", "version",
        "created_at", "updated_at",
    }  # fmt: skip
    assert set(job_columns(stored)) - bookkeeping == set(SHARED_DEFINITION)
    store.dispose()


def test_jobs_that_differ_only_in_their_calendar_get_their_own_specs() -> None:
    from scheduler.schedules.calendars import Calendar

    store = SQLAlchemyStore("sqlite://")
    store.create_schema()
    plain = JobSpec.build(name="plain", task="app.tasks.report", cron="0 9 * * *")
    store.save_job(plain, now=NOW)
    store.save_job(
        plain.with_fields(name="closed", calendar=Calendar(exclude=("2026-12-25",))), now=NOW
    )
    with store.engine.connect() as conn:
        rows = conn.execute(select(job_table).order_by(job_table.c.name)).mappings().all()
    cache = SpecCache(100)
    specs = [cache.get(row) for row in rows]
    assert [(s.name, s.calendar.is_default) for s in specs] == [("closed", False), ("plain", True)]
    store.dispose()
