"""LISTEN/NOTIFY on real PostgreSQL: an edit wakes a sleeping engine at once.

Every wait here is bounded by an event or a generous timeout, never a sleep:
where a test needs to show that nothing woke a listener, it waits a short
while for something that must not happen, which cannot flake the other way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from scheduler.engine import Engine, EngineConfig
from scheduler.errors import InvalidJob
from scheduler.executors.immediate import ImmediateExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import NewRun
from scheduler.stores.base import ChangeListener
from scheduler.stores.pglisten import PostgresChangeListener
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.stores.sqlalchemy.changes import listener as sqlalchemy_listener
from scheduler.tasks.registry import TaskRegistry

pytestmark = pytest.mark.postgres

PATIENCE = 20.0  # seconds an event may take before the test fails
QUIET = 0.3  # how long to wait for a notification that must not come


def job(name: str = "report", **options: object) -> JobSpec:
    return JobSpec.build(name=name, task="app.tasks.report", cron="0 3 * * *", **options)


@pytest.fixture
def stores(postgres_url: str) -> Iterator[tuple[SQLAlchemyStore, SQLAlchemyStore]]:
    """Two stores on one database, each with its own connections: like two processes."""
    first, second = SQLAlchemyStore(postgres_url), SQLAlchemyStore(postgres_url)
    first.create_schema()
    try:
        yield first, second
    finally:
        first.dispose()
        second.dispose()


@pytest.fixture
def listening() -> Iterator[Callable[[SQLAlchemyStore], ChangeListener]]:
    """Start listening on a store, when the test is ready; closed afterwards."""
    made: list[ChangeListener] = []

    def start(store: SQLAlchemyStore) -> ChangeListener:
        listener = store.listen_for_changes()
        assert listener is not None
        made.append(listener)
        return listener

    yield start
    for listener in made:
        listener.close()


@pytest.fixture
def listener(
    stores: tuple[SQLAlchemyStore, SQLAlchemyStore],
    listening: Callable[[SQLAlchemyStore], ChangeListener],
) -> ChangeListener:
    """A listener on the first store, started before anything was written."""
    return listening(stores[0])


def now() -> datetime:
    return datetime.now(UTC)


def test_a_change_made_while_nobody_waits_is_reported_by_the_next_wait(
    stores: tuple[SQLAlchemyStore, SQLAlchemyStore], listener: ChangeListener
) -> None:
    stores[1].save_job(job(), now=now())
    assert listener.wait(PATIENCE) is True
    assert listener.wait(QUIET) is False  # consumed: reported once


def test_a_change_wakes_a_waiting_listener(
    stores: tuple[SQLAlchemyStore, SQLAlchemyStore], listener: ChangeListener
) -> None:
    woke: list[bool] = []
    done = threading.Event()

    def wait() -> None:
        woke.append(listener.wait(10 * PATIENCE))
        done.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    stores[1].save_job(job(), now=now())
    assert done.wait(PATIENCE), "the listener slept through the change"
    waiter.join()
    assert woke == [True]


@pytest.mark.parametrize(
    "change",
    ["sync adds a job", "sync removes a job", "pause", "resume", "add a run", "save a new version"],
)
def test_every_change_that_can_make_something_due_sooner_notifies(
    stores: tuple[SQLAlchemyStore, SQLAlchemyStore],
    listening: Callable[[SQLAlchemyStore], ChangeListener],
    change: str,
) -> None:
    mine, theirs = stores
    mine.sync_jobs([job("a")], source=JobSource.YAML, now=now())
    mine.save_job(job("b"), now=now())
    mine.set_paused("b", True, now=now())
    listener = listening(mine)  # after the setup: its notifications are not delivered
    assert listener.wait(QUIET) is False
    if change == "sync adds a job":
        theirs.sync_jobs([job("a"), job("c")], source=JobSource.YAML, now=now())
    elif change == "sync removes a job":
        theirs.sync_jobs([], source=JobSource.YAML, now=now())
    elif change == "pause":
        theirs.set_paused("a", True, now=now())
    elif change == "resume":
        theirs.set_paused("b", False, now=now())
    elif change == "add a run":
        theirs.add_run("a", NewRun(scheduled_for=now(), due_at=now()))
    else:
        theirs.save_job(job("b", retries=3), now=now())
    assert listener.wait(PATIENCE) is True


def test_writes_that_change_nothing_or_roll_back_do_not_notify(
    stores: tuple[SQLAlchemyStore, SQLAlchemyStore],
    listening: Callable[[SQLAlchemyStore], ChangeListener],
) -> None:
    mine, theirs = stores
    mine.sync_jobs([job("a")], source=JobSource.YAML, now=now())
    mine.save_job(job("b"), now=now())
    listener = listening(mine)
    theirs.sync_jobs([job("a")], source=JobSource.YAML, now=now())  # unchanged
    theirs.save_job(job("b"), now=now())  # unchanged
    theirs.set_paused("b", False, now=now())  # not paused: a no-op
    with pytest.raises(InvalidJob):  # refused, rolled back
        theirs.save_job(job("a", source=JobSource.CODE), now=now())
    assert listener.wait(QUIET) is False


def test_interrupt_ends_a_wait_at_once(listener: ChangeListener) -> None:
    done = threading.Event()
    woke: list[bool] = []

    def wait() -> None:
        woke.append(listener.wait(10 * PATIENCE))
        done.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    listener.interrupt()
    assert done.wait(PATIENCE)
    waiter.join()
    assert woke == [False]  # interrupted, not notified


def test_a_listener_that_loses_its_connection_polls_then_listens_again(
    stores: tuple[SQLAlchemyStore, SQLAlchemyStore], caplog: pytest.LogCaptureFixture
) -> None:
    mine, theirs = stores
    listener = sqlalchemy_listener(mine.engine, reconnect_after=0.0)
    try:
        with theirs.engine.begin() as conn:  # the server drops the listening session
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                )
            ).scalar_one()
        assert killed == 1
        deadline = time.monotonic() + PATIENCE  # the news takes a moment on a busy machine
        while listener.connected and time.monotonic() < deadline:
            assert listener.wait(QUIET) is False  # no exception: it logs and sleeps
        assert "lost the connection that listens for changes" in caplog.text
        assert not listener.connected
        listener.wait(0)  # reconnects
        assert listener.connected
        theirs.save_job(job(), now=now())
        assert listener.wait(PATIENCE) is True
    finally:
        listener.close()


def test_a_listener_on_a_database_that_is_down_starts_disconnected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = SQLAlchemyStore("postgresql://postgres@127.0.0.1:9/nowhere")  # nothing listens
    try:
        listener = store.listen_for_changes()
        assert isinstance(listener, PostgresChangeListener)
        assert not listener.connected
        assert listener.wait(0) is False
        listener.close()
    finally:
        store.dispose()
    assert "cannot listen for changes" in caplog.text


def test_an_edit_in_another_process_wakes_a_sleeping_engine(
    stores: tuple[SQLAlchemyStore, SQLAlchemyStore],
) -> None:
    mine, theirs = stores
    ticks: list[datetime] = []
    first_tick, second_tick = threading.Event(), threading.Event()

    def count(at: datetime) -> None:
        ticks.append(at)
        (first_tick if len(ticks) == 1 else second_tick).set()

    poll = 120.0  # far beyond PATIENCE: only a notification can end the sleep in time
    engine = Engine(
        mine,
        {"default": ImmediateExecutor()},
        registry=TaskRegistry(),
        config=EngineConfig(poll_interval=poll),
        before_tick=[count],
    )
    runner = threading.Thread(target=engine.run)
    runner.start()
    try:
        assert first_tick.wait(PATIENCE)
        assert not second_tick.is_set()  # asleep, with nothing due
        edited = now()
        theirs.save_job(job(), now=edited)
        assert second_tick.wait(PATIENCE), "the engine slept through the edit"
        assert ticks[1] - edited < timedelta(seconds=poll)
    finally:
        engine.stop()  # interrupts the sleep too
        runner.join(PATIENCE)
    assert not runner.is_alive(), "stop() did not end the engine's sleep"
