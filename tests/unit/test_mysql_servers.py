"""Which MariaDB and MySQL servers and sessions the SQL stores accept, and what they say."""

from __future__ import annotations

import pytest

from scheduler.stores.servers import mysql_refusal

GOOD = {"isolation": "READ-COMMITTED", "charset": "utf8mb4"}


@pytest.mark.parametrize(
    ("version", "mariadb"),
    [
        ((10, 6, 0), True),
        ((10, 11, 19), True),
        ((11, 4), True),
        ((8, 0, 1), False),
        ((9, 1), False),
    ],
)
def test_servers_with_skip_locked_are_accepted(version: tuple[int, ...], mariadb: bool) -> None:
    assert mysql_refusal(version, mariadb=mariadb, **GOOD) is None


@pytest.mark.parametrize(
    ("version", "mariadb", "says"),
    [
        ((10, 5, 27), True, "MariaDB 10.5.27 is too old: Tickwork needs MariaDB 10.6 or later"),
        ((5, 7, 44), False, "MySQL 5.7.44 is too old: Tickwork needs MySQL 8.0.1 or later"),
        ((8, 0, 0), False, "MySQL 8.0.0 is too old"),
    ],
)
def test_older_servers_are_refused_by_name_and_version(
    version: tuple[int, ...], mariadb: bool, says: str
) -> None:
    refusal = mysql_refusal(version, mariadb=mariadb, **GOOD)
    assert refusal is not None and says in refusal and "upgrade the server" in refusal


@pytest.mark.parametrize("spelling", ["READ COMMITTED", "read committed", "READ-COMMITTED"])
def test_read_committed_is_accepted_however_it_is_written(spelling: str) -> None:
    assert mysql_refusal((10, 11), mariadb=True, isolation=spelling, charset="utf8mb4") is None


@pytest.mark.parametrize("level", ["REPEATABLE-READ", "SERIALIZABLE", "read uncommitted"])
def test_other_isolation_levels_are_refused_with_the_setting_to_change(level: str) -> None:
    refusal = mysql_refusal((10, 11), mariadb=True, isolation=level, charset="utf8mb4")
    assert refusal is not None
    assert "Tickwork needs READ COMMITTED" in refusal
    assert "'isolation_level'" in refusal  # Django's OPTIONS key, and the engine's argument


@pytest.mark.parametrize("charset", ["utf8", "utf8mb3", "latin1"])
def test_a_charset_other_than_utf8mb4_is_refused(charset: str) -> None:
    refusal = mysql_refusal((10, 11), mariadb=True, isolation="READ-COMMITTED", charset=charset)
    assert refusal is not None and f"character set is {charset}" in refusal


def test_every_problem_is_named_at_once() -> None:
    refusal = mysql_refusal((10, 4), mariadb=True, isolation="REPEATABLE-READ", charset="latin1")
    assert refusal is not None
    assert "too old" in refusal and "READ COMMITTED" in refusal and "utf8mb4" in refusal
