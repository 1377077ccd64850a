"""How a worker finds its store, and worker heartbeats."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduler.errors import SchedulerError
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import NewRun
from scheduler.stores.base import Store
from scheduler.testing import MemoryStore
from scheduler.workers.heartbeats import RunHeartbeat
from scheduler.workers.store import (
    DATABASE_ENV,
    ProcessStore,
    choose_store,
    default_store_factory,
    set_default_store_factory,
)

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_default(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No registered default while a test runs; the one found (the Django app's,
    once Django is set up) is put back afterwards, for the tests that follow."""
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    found = default_store_factory()
    set_default_store_factory(None, origin="")
    yield
    if found is None:
        set_default_store_factory(None, origin="")
    else:
        set_default_store_factory(found.factory, origin=found.origin)


def test_code_wins_then_the_registered_default_then_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    memory = MemoryStore()
    monkeypatch.setenv(DATABASE_ENV, f"sqlite:///{tmp_path}/env.sqlite3")
    set_default_store_factory(lambda: memory, origin="the Django app")
    assert choose_store(factory=lambda: memory).origin == "the store factory given by code"
    assert choose_store(database="sqlite://").origin == "the database given by code"
    assert choose_store().origin == "the Django app"
    assert choose_store().factory() is memory
    set_default_store_factory(None, origin="")
    assert choose_store().origin == f"${DATABASE_ENV}"


def test_a_worker_with_no_store_says_how_to_give_it_one() -> None:
    with pytest.raises(SchedulerError, match=r"pass database= or store_factory="):
        choose_store()


def test_a_database_url_makes_a_sqlalchemy_store(tmp_path: Path) -> None:
    store = choose_store(database=f"sqlite:///{tmp_path}/w.sqlite3").factory()
    assert type(store).__name__ == "SQLAlchemyStore"
    store.dispose()  # type: ignore[attr-defined]


def test_one_store_per_process_and_brief_ones_are_closed() -> None:
    made: list[Closing] = []

    def factory() -> Store:
        made.append(Closing())
        return made[-1]

    stores = ProcessStore(lambda: choose_store(factory=factory))
    assert stores.get() is stores.get() is made[0]
    with stores.briefly() as brief:
        assert brief is made[1] and not made[1].disposed
    assert made[1].disposed and not made[0].disposed


class Closing(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.disposed = False

    def dispose(self) -> None:
        self.disposed = True


def test_the_heartbeat_thread_beats_running_runs_until_they_end() -> None:
    store = MemoryStore()
    store.save_job(JobSpec.build(name="j", task="t.x", every="1h", source=JobSource.CODE), now=T0)
    run = store.add_run("j", NewRun(scheduled_for=T0, due_at=T0))
    assert store.mark_running(run.id, worker="w:1", now=T0)
    heartbeat = RunHeartbeat(lambda: store, interval=0.02)
    try:
        with heartbeat.beating(run.id):
            first = store.get_run(run.id).heartbeat_at
            assert first is not None
            deadline = time.monotonic() + 10
            while store.get_run(run.id).heartbeat_at == first:
                assert time.monotonic() < deadline, "the heartbeat thread never beat"
                time.sleep(0.01)
            assert heartbeat.beating_now() == [run.id]
        assert heartbeat.beating_now() == []
    finally:
        heartbeat.close()


def test_a_heartbeat_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="above 0"):
        RunHeartbeat(MemoryStore, interval=0)
