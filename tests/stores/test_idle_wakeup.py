"""The engine's idle wake-up is one indexed read: no claim transaction when nothing is due.

The engine asks the store for its next wake before claiming; when that is
later than now, the claim (a write transaction on every database: ``BEGIN``,
a locking select, ``COMMIT``) is not opened at all, and the same answer is
the next wake.  Counted here with a ``before_cursor_execute`` listener on
every SQL database; then one job falls due and the next wake-up claims it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, event

from scheduler.engine import Engine
from scheduler.model.jobs import JobSpec
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, RecordingExecutor

T0 = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)


def noop() -> None:
    """The job's task."""


def _engine(store: SQLAlchemyStore, clock: FakeClock) -> tuple[Engine, RecordingExecutor]:
    registry = TaskRegistry()
    registry.register(noop, name="app.noop")
    executor = RecordingExecutor(clock=clock)
    return Engine(store, {"default": executor}, registry=registry, clock=clock), executor


def _statements(store: SQLAlchemyStore) -> list[str]:
    sent: list[str] = []

    def record(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    return sent


def test_an_idle_wake_up_sends_one_select_and_a_due_one_claims(
    sql_store: SQLAlchemyStore,
) -> None:
    clock = FakeClock(T0)
    sql_store.save_job(JobSpec.build(name="minutely", task="app.noop", cron="* * * * *"), now=T0)
    engine, executor = _engine(sql_store, clock)
    engine.tick()  # the first wake-up also registers the replica and recovers
    sent = _statements(sql_store)

    report = engine.tick()

    assert report.claimed == 0
    assert report.next_wake == T0.replace(second=0) + timedelta(minutes=1)
    assert len(sent) == 1, sent
    assert sent[0].lstrip().upper().startswith("SELECT")
    assert "FOR UPDATE" not in sent[0].upper()

    clock.advance(timedelta(seconds=30))
    sent.clear()
    report = engine.tick()

    assert report.claimed == 1
    assert [s.claimed.run.job_name for s in executor.submissions] == ["minutely"]
    assert any("FOR UPDATE" in statement.upper() or "INSERT" in statement for statement in sent)
