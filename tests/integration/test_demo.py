"""The Django demo (``contrib/demo``, ``make demo``), for real: processes, SQLite, HTTP.

The demo is set up as ``make demo`` does (migrate, ``demo_setup``) in a
temporary database, then ``rundemo`` starts the scheduler and the development
server.  The tests wait for states (a page that answers, a run in the table),
polled against a deadline, never for a fixed time.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import IO, TypeVar

import pytest

MANAGE = Path(__file__).resolve().parents[2] / "contrib" / "demo" / "manage.py"
DEADLINE = 60.0  # the demo promises runs within a minute
_T = TypeVar("_T")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a demo whose database is a new, migrated file."""
    found = {
        **os.environ,
        "DEMO_DATABASE": str(tmp_path / "demo.sqlite3"),
        "DJANGO_SETTINGS_MODULE": "demo_site.settings",  # not the test suite's
    }
    manage(found, "migrate", "--noinput", "--verbosity", "0")
    return found


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(MANAGE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@contextmanager
def rundemo(env: dict[str, str], log: IO[str], *args: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, str(MANAGE), "rundemo", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:  # a failed test: stop it the way Ctrl-C would
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


def wait_for(what: str, probe: Callable[[], _T | None], timeout: float = DEADLINE) -> _T:
    """Poll ``probe`` until it returns something, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.25)
    pytest.fail(f"no {what} within {timeout:g} s")


def rows(env: dict[str, str], query: str) -> list[tuple[object, ...]]:
    uri = f"file:{env['DEMO_DATABASE']}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=20)) as connection:
        return list(connection.execute(query))


def succeeded(env: dict[str, str]) -> list[str]:
    return [
        str(name)
        for (name,) in rows(
            env,
            "SELECT job.name FROM scheduler_run AS run JOIN scheduler_job AS job "
            "ON job.id = run.job_id WHERE run.status = 'succeeded' ORDER BY run.id",
        )
    ]


def free_address() -> str:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def logged_in(base: str, username: str, password: str) -> urllib.request.OpenerDirector | None:
    """An opener logged into the admin, or None while the server is not up yet."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    try:
        form = opener.open(f"{base}/admin/login/", timeout=5).read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, form
    fields = {
        "csrfmiddlewaretoken": token.group(1),
        "username": username,
        "password": password,
        "next": "/admin/",
    }
    data = urllib.parse.urlencode(fields).encode()
    welcome = opener.open(f"{base}/admin/login/", data=data, timeout=5).read().decode()
    assert "Log out" in welcome, "the demo user could not log in"
    return opener


def stopped_replicas(env: dict[str, str]) -> list[tuple[object, ...]]:
    return rows(env, "SELECT id, stopped_at IS NOT NULL FROM scheduler_replica")


def test_the_demo_shows_runs_in_the_admin_within_a_minute_and_stops_cleanly(
    env: dict[str, str], tmp_path: Path
) -> None:
    setup = manage(env, "demo_setup", "--delay", "1")
    assert "admin user: demo, password: demo" in setup
    found = re.search(r"deferred (reminders\.tasks\.send_reminder:[0-9a-f]{16})", setup)
    assert found, setup
    deferred = found.group(1)
    address = free_address()
    base = f"http://{address}"
    with (
        (tmp_path / "rundemo.log").open("w+") as log,
        rundemo(env, log, "--addr", address, "--seconds", "300") as process,
    ):
        opener = wait_for("admin login", lambda: logged_in(base, "demo", "demo"))
        wait_for("heartbeat run", lambda: "heartbeat" in succeeded(env))
        wait_for("deferred run", lambda: deferred in succeeded(env))
        history = opener.open(f"{base}/admin/scheduler/run/", timeout=5).read().decode()
        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=60) == 0
        log.seek(0)
        output = log.read()
    assert "heartbeat" in history and deferred in history
    assert f"Log in at {base}/admin/ as 'demo', password 'demo'" in output
    assert "== Latest runs ==" in output
    assert succeeded(env).count(deferred) == 1
    assert [stopped for _, stopped in stopped_replicas(env)] == [1]
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", int(address.rsplit(":", 1)[1])), timeout=5),
    ):
        pass


def test_rundemo_stops_both_processes_after_the_seconds_given(
    env: dict[str, str], tmp_path: Path
) -> None:
    address = free_address()
    with (
        (tmp_path / "rundemo.log").open("w+") as log,
        rundemo(env, log, "--addr", address, "--seconds", "6") as process,
    ):
        assert process.wait(timeout=DEADLINE) == 0
        log.seek(0)
        output = log.read()
    assert "Both stop after 6 s, or on Ctrl-C" in output
    assert "received SIGTERM: stopping" in output  # the scheduler was stopped gracefully
    assert [stopped for _, stopped in stopped_replicas(env)] == [1]
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", int(address.rsplit(":", 1)[1])), timeout=5),
    ):
        pass
