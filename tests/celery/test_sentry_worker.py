"""A run executed by a real Celery worker sends its Sentry Crons check-ins from the worker.

The worker process initialises Sentry from ``$SENTRY_DSN`` (the local sink)
and registers the check-ins with ``scheduler.monitoring.sentry.enable()``, as a
worker without Django does; the test process sends nothing itself.
"""

from __future__ import annotations

from tests.celery.conftest import require_celery

require_celery()

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus
from scheduler.monitoring.sentry import sentry_active
from tests.monitoring.sentry_sink import Sink

from .harness import BROKERS, new_world, reachable

pytestmark = pytest.mark.celery

TASKS = "tests.celery.worker_app"


def test_the_worker_sends_the_check_ins_of_its_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reachable(BROKERS["redis"])
    with Sink() as sink:
        monkeypatch.setenv("SENTRY_DSN", sink.dsn)
        monkeypatch.setenv("SENTRY_RELEASE", "from-the-worker")
        monkeypatch.setenv("TICKWORK_TEST_SENTRY_CRONS", "1")
        world, close = new_world(tmp_path, BROKERS["redis"])
        try:
            due = datetime.now(UTC) - timedelta(seconds=61)  # one slot of each is due
            for name, task, kwargs in (
                ("add", "add", {"a": 2, "b": 3}),
                ("explode", "explode", {"message": "boom"}),
            ):
                spec = JobSpec.build(name=name, task=f"{TASKS}.{task}", kwargs=kwargs,
                                     every="1m", timeout="5m", source=JobSource.CODE)  # fmt: skip
                world.store.save_job(spec, now=due)
            world.dispatch()
            assert world.ended("add").status is RunStatus.SUCCEEDED
            assert world.ended("explode").status is RunStatus.FAILED
            checkins = sink.wait_for_checkins(4)
        finally:
            close()
    assert not sentry_active()  # this process sent nothing: all four came from the worker
    assert {c["release"] for c in checkins} == {"from-the-worker"}
    for slug, end in (("add", "ok"), ("explode", "error")):
        started, ended = [c for c in checkins if c["monitor_slug"] == slug]
        assert (started["status"], ended["status"]) == ("in_progress", end)
        assert started["check_in_id"] == ended["check_in_id"]
        assert ended["duration"] >= 0
        assert ended["monitor_config"] == {
            "schedule": {"type": "interval", "value": 1, "unit": "minute"},
            "timezone": "UTC",
            "checkin_margin": 1,
            "max_runtime": 5,
        }
