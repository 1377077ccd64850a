"""``manage.py scheduler_status`` and ``tickwork status``: one probe, one answer.

Both read the replicas through the store's ``list_replicas`` and print them
with :mod:`scheduler.cli.probe`; on the same database they must say the same
thing and exit alike: 0 with a live replica, 1 without one, 2 when the state
cannot be read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from scheduler.cli import main
from scheduler.django.store import DjangoStore
from tests.django.conftest import sqlalchemy_url
from tests.django_databases import pointed_at


@pytest.fixture
def configured(settings: Any, alias: str) -> str:
    settings.SCHEDULER = {"DATABASE": alias}
    return alias


def status(*args: str) -> tuple[int, str]:
    """``scheduler_status`` with ``args``: its exit code and what it printed."""
    out = StringIO()
    try:
        call_command("scheduler_status", *args, stdout=out, stderr=StringIO())
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def tickwork_status(
    capsys: pytest.CaptureFixture[str], alias: str, *args: str
) -> tuple[int, str, str]:
    code = main(["status", "--database", sqlalchemy_url(alias), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def replicas(configured: str, django_store: DjangoStore) -> Iterator[DjangoStore]:
    """Three replicas: one alive, one that stopped cleanly, one silent for an hour."""
    now = datetime.now(UTC)
    django_store.heartbeat("live", hostname="web-1", pid=11, now=now)
    django_store.heartbeat("gone", hostname="web-2", pid=12, now=now - timedelta(minutes=5))
    django_store.stop_replica("gone", now=now - timedelta(minutes=4))
    django_store.heartbeat("hung", hostname="web-3", pid=13, now=now - timedelta(hours=1))
    yield django_store


def test_without_any_replica_it_exits_1(configured: str) -> None:
    code, out = status()
    assert code == 1
    assert "no replicas yet" in out and "none has ever heartbeated" in out


def test_with_a_live_replica_it_exits_0_and_shows_each_state(replicas: DjangoStore) -> None:
    code, out = status()
    assert code == 0, out
    lines = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if line[:4] in {"live", "gone", "hung"}
    }
    assert lines["live"][1:3] == ["web-1:11", "alive"]
    assert lines["gone"][1:3] == ["web-2:12", "stopped"]
    assert lines["hung"][1:3] == ["web-3:13", "silent"]
    assert out.rstrip().endswith("1 replica alive")


def test_once_the_live_one_stops_it_exits_1(replicas: DjangoStore) -> None:
    replicas.stop_replica("live", now=datetime.now(UTC))
    code, out = status()
    assert code == 1
    assert out.endswith("no scheduler replica is alive: 2 stopped, 1 silent for over 60s")


def test_stale_after_decides_who_is_silent(replicas: DjangoStore) -> None:
    replicas.stop_replica("live", now=datetime.now(UTC))
    assert status()[0] == 1
    code, out = status("--json", "--stale-after", "7200")  # "hung" beat an hour ago
    assert code == 0
    assert json.loads(out)["alive"] == 1


def test_json_lists_every_replica_with_its_state(replicas: DjangoStore) -> None:
    code, out = status("--json")
    assert code == 0
    report = json.loads(out)
    assert report["alive"] == 1 and report["stale_after_seconds"] == 60
    states = {r["id"]: (r["hostname"], r["pid"], r["state"]) for r in report["replicas"]}
    assert states == {
        "live": ("web-1", 11, "alive"),
        "gone": ("web-2", 12, "stopped"),
        "hung": ("web-3", 13, "silent"),
    }
    assert [r["id"] for r in report["replicas"]] == ["live", "gone", "hung"]


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("sqlite", "{tmp}/empty.sqlite3"),  # a database, but no tables in it
        ("sqlite", "{tmp}/notes.sqlite3"),  # not a database at all
        pytest.param("postgres", "tickwork_no_such_database", marks=pytest.mark.postgres),
    ],
    ids=["sqlite-without-tables", "sqlite-not-a-database", "postgres-unreachable"],
)
def test_a_database_it_cannot_read_exits_2(
    settings: Any, tmp_path: Path, django_db_blocker: Any, alias: str, name: str
) -> None:
    settings.SCHEDULER = {"DATABASE": alias}
    (tmp_path / "notes.sqlite3").write_text("not a database\n" * 20)
    with django_db_blocker.unblock(), pointed_at(alias, name.format(tmp=tmp_path)):
        code, message = status()
    assert code == 2
    assert message.startswith("cannot read the scheduler's state:"), message


def test_a_database_alias_that_does_not_exist_exits_2(settings: Any) -> None:
    settings.SCHEDULER = {"DATABASE": "elsewhere"}
    code, message = status()
    assert code == 2
    assert "SCHEDULER['DATABASE'] must name a database in DATABASES" in message


def test_tickwork_status_says_the_same_on_the_same_database(
    replicas: DjangoStore, configured: str, capsys: pytest.CaptureFixture[str]
) -> None:
    django_code, django_out = status("--json", "--stale-after", "600")
    code, out, err = tickwork_status(capsys, configured, "--json", "--stale-after", "600")
    assert (code, django_code) == (0, 0), err

    def comparable(text: str) -> dict[str, Any]:
        report: dict[str, Any] = json.loads(text)
        del report["now"]
        for replica in report["replicas"]:
            del replica["heartbeat_age_seconds"]
        return report

    assert comparable(out) == comparable(django_out)
    replicas.stop_replica("live", now=datetime.now(UTC))
    django_code, django_out = status("--stale-after", "600")
    code, out, err = tickwork_status(capsys, configured, "--stale-after", "600")
    assert (code, django_code) == (1, 1)
    assert err.strip() == f"tickwork status: {django_out.rsplit(chr(10), 1)[-1]}"
