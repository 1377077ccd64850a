"""Switching Sentry Crons on and off: the setting, the command line, bad DSNs.

A DSN that cannot work is refused at start with the reason, before anything
is claimed; ``tickwork run --sentry-crons`` sends its check-ins from a real
process to the local sink.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sentry_sdk
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from scheduler.cli import main
from scheduler.django.apps import enable_sentry_crons
from scheduler.django.settings import read_settings
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.monitoring import sentry
from scheduler.monitoring.hooks import RunHooks
from scheduler.monitoring.sentry_setup import (
    SentryCronsError,
    check_sentry_jobs,
    setup_sentry_crons,
)
from scheduler.stores.sqlalchemy import SQLAlchemyStore

from .sentry_sink import Sink, client_fixture, sink_fixture  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    assert not sentry.sentry_active()


@pytest.mark.parametrize(
    ("dsn", "reason"),
    [
        ("sentry.example.com/1", "the Sentry DSN 'sentry.example.com/1' is malformed: "
         "Unsupported scheme ''"),
        ("https://sentry.example.com/1", "is malformed: Missing public key"),
        ("https://key:secret@sentry.example.com/project", "the Sentry DSN "
         "'https://***@sentry.example.com/project' is malformed: Invalid project in DSN"),
        ("key:secret@sentry.example.com/1", "the Sentry DSN '***@sentry.example.com/1' is "
         "malformed: Unsupported scheme '***'"),
    ],
)  # fmt: skip
def test_a_malformed_dsn_is_refused_with_the_reason(no_dsn: None, dsn: str, reason: str) -> None:
    hooks = RunHooks()
    with pytest.raises(SentryCronsError, match="malformed") as refused:
        setup_sentry_crons(True, dsn=dsn, hooks=hooks)
    assert reason in str(refused.value)
    assert not sentry.sentry_active() and not hooks and sentry.enabled(hooks) is None


def test_switched_on_without_a_dsn_says_what_to_set(no_dsn: None) -> None:
    with pytest.raises(SentryCronsError, match="no DSN is set: set SENTRY_DSN"):
        setup_sentry_crons(True, hooks=RunHooks())


def test_unset_sends_only_while_sentry_is_initialised(no_dsn: None, sentry_sink: Sink) -> None:
    hooks = RunHooks()
    crons = setup_sentry_crons(None, hooks=hooks)
    assert crons is not None and sentry.enabled(hooks) is crons
    assert not crons.sending
    sentry_sdk.init(dsn=sentry_sink.dsn, default_integrations=False)
    try:
        assert crons.sending
    finally:
        from .sentry_sink import uninitialise_sentry

        uninitialise_sentry()
    assert not crons.sending
    assert setup_sentry_crons(False, hooks=hooks) is None
    assert sentry.enabled(hooks) is None and not hooks


def test_switched_on_uses_the_initialised_client(sentry_client: Sink) -> None:
    client = sentry_sdk.get_client()
    hooks = RunHooks()
    crons = setup_sentry_crons(True, hooks=hooks, exclude=["tmp.*"])
    assert crons is not None and crons.sending and crons.exclude == ("tmp.*",)
    assert sentry_sdk.get_client() is client  # not initialised a second time
    again = setup_sentry_crons(True, hooks=hooks)
    assert sentry.enabled(hooks) is again  # replaced, not added
    jobs = [JobSpec.build(name=name, task="t", every="90s") for name in ("a", "b")]
    assert check_sentry_jobs(lambda: jobs, hooks=hooks) == [
        f"job {name!r} sends no Sentry check-ins: its interval (90s) is not a whole number "
        "of minutes, the smallest unit Sentry counts in"
        for name in ("a", "b")
    ]


def test_the_settings_keys_are_checked() -> None:
    found, problems = read_settings({"SENTRY_CRONS": True, "SENTRY_CRONS_EXCLUDE": ["a.*"]})
    assert (found.sentry_crons, found.sentry_crons_exclude, problems) == (True, ("a.*",), [])
    assert read_settings({})[0].sentry_crons is None
    _, problems = read_settings({"SENTRY_CRONS": "yes", "SENTRY_CRONS_EXCLUDE": "a.*"})
    assert [p.message for p in problems] == [
        "SCHEDULER['SENTRY_CRONS'] must be True, False or None, got 'yes'",
        "SCHEDULER['SENTRY_CRONS_EXCLUDE'] must be a list of job-name patterns, got 'a.*'",
    ]


def test_the_django_app_refuses_a_malformed_dsn(
    no_dsn: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTRY_DSN", "https://sentry.example.com/1")
    with (
        override_settings(SCHEDULER={"SENTRY_CRONS": True}),
        pytest.raises(ImproperlyConfigured, match=r"SENTRY_CRONS'\]: the Sentry DSN .* malformed"),
    ):
        enable_sentry_crons()


def test_tickwork_run_refuses_a_malformed_dsn_before_claiming(
    no_dsn: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SENTRY_DSN", "not-a-dsn")
    database = tmp_path / "runs.sqlite3"
    assert main(["run", "--database", f"sqlite:///{database}", "--once", "--sentry-crons"]) == 2
    assert capsys.readouterr().err == (
        "tickwork: error: --sentry-crons: the Sentry DSN 'not-a-dsn' is malformed: "
        "Unsupported scheme ''\n"
    )
    assert not database.exists()


def test_tickwork_run_sends_check_ins_from_its_process(sentry_sink: Sink, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/runs.sqlite3"
    store = SQLAlchemyStore(url)
    store.create_schema()
    due = datetime.now(UTC) - timedelta(seconds=61)  # a slot of each is due now
    for name, task in (("tidy", "tidy"), ("fail", "fail")):
        spec = JobSpec.build(name=name, task=f"tests.monitoring.sentry_tasks.{task}",
                             every="1m", source=JobSource.CODE)  # fmt: skip
        store.save_job(spec, now=due)
    store.dispose()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "SENTRY_DSN")},
        "SENTRY_DSN": sentry_sink.dsn,
        "SENTRY_RELEASE": "from-the-command",
        "PYTHONPATH": str(REPO),
    }
    command = [
        sys.executable, "-m", "scheduler", "run", "--database", url, "--once", "--sentry-crons",
        "--import", "tests.monitoring.sentry_tasks",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    checkins = sentry_sink.wait_for_checkins(4)  # the SDK flushes when the process exits
    assert {c["release"] for c in checkins} == {"from-the-command"}
    by_slug = {
        slug: [c["status"] for c in checkins if c["monitor_slug"] == slug]
        for slug in ("tidy", "fail")
    }
    assert by_slug == {"tidy": ["in_progress", "ok"], "fail": ["in_progress", "error"]}


def test_the_django_app_registers_the_check_ins_in_its_process(sentry_client: Sink) -> None:
    try:
        with override_settings(SCHEDULER={"SENTRY_CRONS": True, "SENTRY_CRONS_EXCLUDE": ["x.*"]}):
            enable_sentry_crons()
        crons = sentry.enabled()  # the process's hooks, which the engine and workers use
        assert crons is not None and not crons.when_active and crons.exclude == ("x.*",)
        with override_settings(SCHEDULER={"SENTRY_CRONS": False}):
            enable_sentry_crons()
        assert sentry.enabled() is None
    finally:
        enable_sentry_crons()  # as the app left it when ready: SENTRY_CRONS unset
    assert sentry.enabled() is not None and sentry.enabled().when_active  # type: ignore[union-attr]


WITHOUT_SENTRY = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("sentry_sdk", "cronsim"):
            raise ImportError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, Block())
import scheduler, scheduler.cli, scheduler.cli.run, scheduler.engine, scheduler.workers.run
from scheduler.monitoring.sentry_setup import SentryCronsError, setup_sentry_crons
from scheduler.monitoring.hooks import hooks
assert setup_sentry_crons(None) is None and not hooks
try:
    setup_sentry_crons(True)
except SentryCronsError as error:
    print(error)
"""


def test_without_sentry_sdk_the_package_works_and_switching_it_on_says_what_to_install() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_SENTRY], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "Sentry Crons is switched on but sentry-sdk is not installed: "
        "pip install 'tickwork[sentry]'\n"
    )
