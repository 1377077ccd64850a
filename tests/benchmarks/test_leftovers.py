"""A case process killed at its timeout leaves no database behind: the runner drops it."""

from __future__ import annotations

import sys

import psycopg
import pytest

from benchmarks import common
from benchmarks.leftovers import CASE_TAG, database_prefix, drop_leftovers, new_tag

# A case that creates its PostgreSQL database, says so, and hangs until it is killed.
HANGING_CASE = """
import sys, time
from pathlib import Path
from benchmarks.common import throwaway_database
with throwaway_database("postgresql", Path(sys.argv[-1])) as database:
    print(database.name, flush=True)
    time.sleep(120)
"""


def _databases(prefix: str) -> list[str]:
    with psycopg.connect(common.POSTGRES_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,)
        )
        return [row[0] for row in rows]


@pytest.mark.usefixtures("postgres_url")  # skips, or fails in CI, without the server
def test_a_case_killed_at_its_timeout_leaves_no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "CASE_TIMEOUT", 3)
    monkeypatch.setattr(common, "new_tag", lambda: "0123abcd")
    dropped: list[str] = []

    def drop(*args: str) -> list[str]:
        dropped.extend(drop_leftovers(*args))
        return dropped

    monkeypatch.setattr(common, "drop_leftovers", drop)
    command = [sys.executable, "-c", HANGING_CASE]
    result = common.run_case(command, "herd", "tickwork-postgresql", 1)
    assert result["status"] == "error"
    assert "did not finish within 3 s" in result["reason"]
    assert len(dropped) == 1  # the case had created it, and it was left to the runner
    assert dropped[0].startswith("tickwork_bench_0123abcd_")
    assert _databases("tickwork_bench_0123abcd_") == []


@pytest.mark.usefixtures("postgres_url")
def test_only_the_tagged_case_databases_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    mine, other = new_tag(), new_tag()
    with psycopg.connect(common.POSTGRES_ADMIN_URL, autocommit=True) as admin:
        for tag in (mine, other):
            admin.execute(f'CREATE DATABASE "tickwork_bench_{tag}_x"')
    try:
        dropped = drop_leftovers(mine, common.POSTGRES_ADMIN_URL, common.MARIADB_ADMIN_URL)
        assert dropped == [f"tickwork_bench_{mine}_x"]
        assert _databases(f"tickwork_bench_{other}_") == [f"tickwork_bench_{other}_x"]
    finally:
        drop_leftovers(other, common.POSTGRES_ADMIN_URL, common.MARIADB_ADMIN_URL)


def test_a_database_name_carries_the_case_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CASE_TAG, "89abcdef")
    assert database_prefix() == "tickwork_bench_89abcdef_"
    monkeypatch.setenv(CASE_TAG, "not a tag; DROP")
    assert database_prefix() == "tickwork_bench_"


def test_a_malformed_tag_is_refused() -> None:
    with pytest.raises(ValueError, match="eight hex digits"):
        drop_leftovers("%", common.POSTGRES_ADMIN_URL, common.MARIADB_ADMIN_URL)
