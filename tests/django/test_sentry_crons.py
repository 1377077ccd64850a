"""A Django site's scheduler sends Sentry Crons check-ins through the hooks its app registered.

``run_scheduler``'s runner on a fake clock, the immediate executor, and the
real SDK sending to the local sink (``tests/monitoring/sentry_sink.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import override_settings

from scheduler.django.apps import enable_sentry_crons
from scheduler.django.runner import RunOptions, run
from scheduler.django.store import DjangoStore
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.testing import FakeClock
from tests.monitoring.sentry_sink import Sink, client_fixture, sink_fixture  # noqa: F401

PING = "tests.django.testapp.tasks.ping"
START = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def sentry_site(settings: Any, alias: str, sentry_client: Sink) -> Iterator[Sink]:
    """SCHEDULER on the test database, the app's check-ins registered as it would at start."""
    settings.SCHEDULER = {
        "DATABASE": alias,
        "EXECUTORS": {"default": {"BACKEND": "scheduler.executors.immediate.ImmediateExecutor"}},
        "SENTRY_CRONS_EXCLUDE": ["quiet.*"],
    }
    enable_sentry_crons()
    try:
        yield sentry_client
    finally:
        with override_settings(SCHEDULER={}):
            enable_sentry_crons()  # as the app registered them when ready


def test_run_scheduler_sends_a_check_in_pair_per_run(
    sentry_site: Sink, django_store: DjangoStore, caplog: pytest.LogCaptureFixture
) -> None:
    import sentry_sdk

    for name, every in (("ping", "1m"), ("quiet.ping", "1m"), ("fast", "30s")):
        spec = JobSpec.build(name=name, task=PING, every=every, source=JobSource.ADMIN)
        django_store.save_job(spec, now=START)
    with caplog.at_level(logging.WARNING, logger="scheduler.monitoring.sentry"):
        run(RunOptions(duration=120, replica_id="r1"), clock=FakeClock(START))
    sentry_sdk.flush(timeout=10)

    checkins = sentry_site.checkins()
    assert [(c["monitor_slug"], c["status"]) for c in checkins] == [
        ("ping", "in_progress"),
        ("ping", "ok"),
        ("ping", "in_progress"),
        ("ping", "ok"),
    ]  # quiet.ping is excluded; fast's 30 s interval cannot be a Sentry schedule
    assert checkins[0]["check_in_id"] == checkins[1]["check_in_id"]
    assert checkins[2]["check_in_id"] == checkins[3]["check_in_id"] != checkins[0]["check_in_id"]
    assert checkins[1]["duration"] == 0.0  # the fake clock stands still while ping runs
    assert checkins[1]["monitor_config"] == {
        "schedule": {"type": "interval", "value": 1, "unit": "minute"},
        "timezone": "UTC",
        "checkin_margin": 1,
    }
    assert len(django_store.list_runs(job_name="fast")) == 4  # it runs, unwatched
    assert [r.getMessage() for r in caplog.records] == [  # at start, not again at each run
        "job 'fast' sends no Sentry check-ins: its interval (30s) is not a whole number of "
        "minutes, the smallest unit Sentry counts in"
    ]
