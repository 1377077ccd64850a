"""``tickwork jobs`` marks next runs that no scheduler claimed, and says why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.cli import main
from scheduler.cli.history import jobs_listing
from scheduler.cli.overdue import span
from scheduler.model.jobs import JobSpec
from scheduler.stores.sqlalchemy import SQLAlchemyStore

T0 = datetime(2026, 2, 1, 12, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLAlchemyStore]:
    store = SQLAlchemyStore(f"sqlite:///{tmp_path}/jobs.sqlite3")
    store.create_schema()
    # next run 12:05, 12:00 tomorrow, and 12:05 for a paused job
    store.save_job(JobSpec.build(name="every-5", task="app.ping", cron="*/5 * * * *"), now=T0)
    store.save_job(JobSpec.build(name="daily", task="app.report", cron="0 12 * * *"), now=T0)
    store.save_job(JobSpec.build(name="held", task="app.ping", cron="*/5 * * * *"), now=T0)
    store.set_paused("held", True, now=T0)
    yield store
    store.dispose()


def rows(listing: str) -> dict[str, str]:
    """The NEXT RUN cell of each job."""
    table = listing.split("\n\n")[0].splitlines()
    start, end = table[0].index("NEXT RUN"), table[0].index("LAST STATUS")
    return {line.split()[0]: line[start:end].strip() for line in table[2:]}


def test_on_time_jobs_have_no_mark_and_no_note(store: SQLAlchemyStore) -> None:
    listing = jobs_listing(store, T0 + timedelta(minutes=6))  # 1 min late: within the grace
    assert rows(listing)["every-5"] == "2026-02-01T12:05:00+00:00"
    assert "overdue" not in listing


def test_an_overdue_job_is_marked_and_the_missing_scheduler_named(
    store: SQLAlchemyStore,
) -> None:
    listing = jobs_listing(store, T0 + timedelta(minutes=8))
    assert rows(listing) == {
        "daily": "2026-02-02T12:00:00+00:00",
        "every-5": "2026-02-01T12:05:00+00:00 (overdue 3 min)",
        "held": "-",
    }
    assert listing.splitlines()[-1] == (
        "1 job overdue: no scheduler seems to be running (none has ever sent a heartbeat "
        "to this database); start one with `tickwork run`"
    )


def test_the_note_tells_a_silent_replica_from_a_live_one(store: SQLAlchemyStore) -> None:
    store.heartbeat("r1", hostname="web-1", pid=42, now=T0)
    later = T0 + timedelta(hours=2, minutes=5, seconds=30)
    assert listing_note(store, later) == (
        "1 job overdue: no scheduler seems to be running (the last heartbeat was "
        "2 h 5 min ago); start one with `tickwork run`"
    )
    store.heartbeat("r1", hostname="web-1", pid=42, now=later)
    assert listing_note(store, later).startswith(
        "1 job overdue although 1 scheduler replica is alive: it may be behind"
    )


def listing_note(store: SQLAlchemyStore, now: datetime) -> str:
    return jobs_listing(store, now).splitlines()[-1]


def test_the_command_prints_the_mark_and_the_note(
    capsys: pytest.CaptureFixture[str], store: SQLAlchemyStore
) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    assert main(["jobs", "--database", url]) == 0  # T0 is long past: both due jobs are late
    out = capsys.readouterr().out
    assert "(overdue " in rows(out)["every-5"] and "(overdue " in rows(out)["daily"]
    assert "2 jobs overdue: no scheduler seems to be running" in out


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (180, "3 min"),
        (7_530, "2 h 5 min"),
        (7_230, "2 h"),
        (86_400 + 7_200, "1 day 2 h"),
        (3 * 86_400, "3 days"),
    ],
)
def test_span(seconds: int, words: str) -> None:
    assert span(timedelta(seconds=seconds)) == words
