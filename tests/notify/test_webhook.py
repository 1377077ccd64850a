"""The webhook notifier against a real local HTTP receiver: payload, retries, a
receiver that is down or slow, and what it never does (delay recording a run)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduler.engine import Engine, EngineConfig
from scheduler.executors.immediate import ImmediateExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus, Trigger
from scheduler.monitoring.events import RunEvent
from scheduler.monitoring.hooks import RunHooks
from scheduler.monitoring.notifiers.base import installed_notifiers
from scheduler.monitoring.notifiers.building import build_notifier
from scheduler.monitoring.notifiers.delivery import Backoff
from scheduler.monitoring.notifiers.options import NotifierConfigError
from scheduler.monitoring.notifiers.webhook import WebhookNotifier
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, MemoryStore
from tests.notify.sink import running_sink

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
JOB = JobSpec.build(name="nightly", task="app.tasks.report", cron="30 2 * * *")


def event(**changes: Any) -> RunEvent:
    values: dict[str, Any] = {
        "job": JOB,
        "run_id": 41,
        "status": RunStatus.FAILED,
        "scheduled_for": T0,
        "due_at": T0,
        "attempt": 2,
        "trigger": Trigger.RETRY,
        "started_at": T0 + timedelta(seconds=1),
        "finished_at": T0 + timedelta(seconds=3.5),
        "error": "ValueError: boom\n  more detail",
        "worker": "host:123",
        "replica_id": "r1",
        **changes,
    }
    return RunEvent(**values)


class Waits:
    """Stands in for the delivery thread's wait: records the delays, returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.delays.append(seconds)
        return False


def test_posts_the_documented_payload() -> None:
    with running_sink() as sink:
        notifier = WebhookNotifier("slack", url=sink.url, text=True, headers={"X-Token": "t"})
        notifier(event())
        assert notifier.flush(10)
        notifier.close()
    assert sink.received == [
        {
            "job": "nightly",
            "status": "failed",
            "run_id": 41,
            "scheduled_for": "2026-03-02T09:00:00+00:00",
            "started_at": "2026-03-02T09:00:01+00:00",
            "finished_at": "2026-03-02T09:00:03.500000+00:00",
            "duration_seconds": 2.5,
            "attempt": 2,
            "error": "ValueError: boom",
            "replica": "r1",
            "worker": "host:123",
            "will_retry": False,
            "text": "Tickwork: nightly failed (slot 2026-03-02T09:00:00+00:00), "
            "attempt 2: ValueError: boom",
        }
    ]
    assert sink.headers[0]["Content-Type"] == "application/json"
    assert sink.headers[0]["X-Token"] == "t"
    assert notifier.counts == {"sent": 1, "failed": 0, "dropped": 0, "skipped": 0}


def test_retries_with_capped_exponential_backoff_until_the_receiver_answers() -> None:
    waits = Waits()
    with running_sink() as sink:
        sink.answers = [500, 500, 503, 200]
        backoff = Backoff(retries=5, first=0.5, cap=1.5)
        notifier = WebhookNotifier("hook", url=sink.url, backoff=backoff, wait=waits)
        notifier(event())
        assert notifier.flush(10)
        notifier.close()
    assert len(sink.received) == 4
    assert waits.delays == [0.5, 1.0, 1.5]  # doubled, capped at 1.5
    assert notifier.counts["sent"] == 1


def test_a_receiver_that_keeps_failing_is_counted_failed_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    waits = Waits()
    with running_sink() as sink:
        sink.answers = [500] * 10
        notifier = WebhookNotifier("hook", url=sink.url, backoff=Backoff(retries=2), wait=waits)
        notifier(event())
        assert notifier.flush(10)
        notifier.close()
    assert len(sink.received) == 3
    assert notifier.counts == {"sent": 0, "failed": 1, "dropped": 0, "skipped": 0}
    assert "notifier hook: run 41 of nightly (failed) not delivered after 3 attempts" in caplog.text


def test_a_receiver_that_is_down_is_retried_then_counted_failed() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens there once closed
    waits = Waits()
    notifier = WebhookNotifier(
        "hook", url=f"http://127.0.0.1:{port}/", backoff=Backoff(retries=1), wait=waits
    )
    notifier(event())
    assert notifier.flush(10)
    notifier.close()
    assert waits.delays == [1.0]
    assert notifier.counts["failed"] == 1


def test_only_wanted_events_are_sent() -> None:
    with running_sink() as sink:
        notifier = WebhookNotifier("hook", url=sink.url)
        notifier(event(status=RunStatus.SUCCEEDED))
        notifier(event(will_retry=True))  # the last attempt notifies, not this one
        notifier(event(status=RunStatus.RUNNING, finished_at=None))
        notifier(event(job=JOB.with_fields(notify=False)))
        notifier(event(job=JOB.with_fields(notify=["other"])))
        notifier(event(status=RunStatus.MISSED, run_id=None, error=""))
        notifier(
            event(job=JOB.with_fields(notify={"when": ["succeeded"]}), status=RunStatus.SUCCEEDED)
        )
        assert notifier.flush(10)
        notifier.close()
    assert [(r["status"], r["run_id"]) for r in sink.received] == [
        ("missed", None),
        ("succeeded", 41),
    ]


def test_retried_attempts_notify_when_asked() -> None:
    with running_sink() as sink:
        notifier = WebhookNotifier("hook", url=sink.url, on_retry=True)
        notifier(event(will_retry=True))
        assert notifier.flush(10)
        notifier.close()
    assert [r["will_retry"] for r in sink.received] == [True]


def test_a_full_queue_drops_and_counts_and_close_sends_what_is_queued() -> None:
    with running_sink(held=True) as sink:
        notifier = WebhookNotifier("hook", url=sink.url, queue_size=2, timeout=30)
        notifier(event(run_id=1))
        assert sink.arrived.wait(10)  # run 1 is in the receiver's hands
        for run_id in range(2, 6):
            notifier(event(run_id=run_id))  # 2 and 3 wait in the queue; 4 and 5 do not fit
        assert notifier.counts["dropped"] == 2
        sink.hold.set()
        notifier.close(timeout=10)
    assert sorted(r["run_id"] for r in sink.received) == [1, 2, 3]
    assert notifier.counts == {"sent": 3, "failed": 0, "dropped": 2, "skipped": 0}
    notifier(event(run_id=6))  # after close: dropped, never sent
    assert notifier.counts["dropped"] == 3


def test_close_gives_up_on_a_receiver_that_holds_on_and_drops_the_rest() -> None:
    with running_sink(held=True) as sink:
        notifier = WebhookNotifier("hook", url=sink.url, timeout=30)
        notifier(event(run_id=1))
        assert sink.arrived.wait(10)
        notifier(event(run_id=2))
        notifier.close(timeout=0.2)  # run 1 still in the receiver's hands
        assert notifier.counts["dropped"] == 1  # run 2 was never sent
        assert [r["run_id"] for r in sink.received] == [1]


def test_a_slow_receiver_never_delays_recording_a_run() -> None:
    clock = FakeClock(T0)
    store = MemoryStore()
    tasks = TaskRegistry()

    def boom() -> None:
        raise ValueError("boom")

    tasks.register(boom, name="tests.boom")
    spec = JobSpec.build(name="flaky", task="tests.boom", every="1m", source=JobSource.CODE)
    store.save_job(spec, now=clock.now())
    hooks = RunHooks()
    with running_sink(held=True) as sink:
        notifier = WebhookNotifier("hook", url=sink.url, timeout=30).install(hooks)
        engine = Engine(
            store,
            {"default": ImmediateExecutor(clock=clock)},
            registry=tasks,
            clock=clock,
            config=EngineConfig(poll_interval=3600.0),
            hooks=hooks,
        )
        engine.loop(until=T0 + timedelta(minutes=1))
        # The engine recorded the failure and returned, while the receiver still holds
        # the notification's request open.
        assert sink.arrived.wait(10)
        assert not sink.hold.is_set()
        (run,) = store.list_runs(limit=10)
        assert run.status is RunStatus.FAILED
        assert notifier.counts["sent"] == 0
        sink.hold.set()
        assert notifier.flush(10)
        notifier.close()
    assert [r["job"] for r in sink.received] == ["flaky"]
    assert notifier.counts["sent"] == 1


URL = {"URL": "http://x"}
BAD_SETTINGS = [
    ({"BACKEND": "pager"}, r"NOTIFIERS\['x'\]\['BACKEND'\] must be one of mail_admins, webhook"),
    ({"BACKEND": "webhook"}, r"\['URL'\] must be a non-empty string \(it is required\)"),
    ({"BACKEND": "webhook", "OPTIONS": {"URL": "ftp://x"}}, r"\['URL'\]: .*http:// or https://"),
    ({"BACKEND": "webhook", "OPTIONS": {**URL, "TIMEOUT": -1}}, r"\['TIMEOUT'\] must be a dura"),
    ({"BACKEND": "webhook", "OPTIONS": {**URL, "RETRYS": 2}}, r"'RETRYS'; did you mean 'RETRIES'"),
    (
        {"BACKEND": "webhook", "OPTIONS": {**URL, "WHEN": ["x"]}},
        r"\['WHEN'\] must be a list",
    ),
    ({"BACKEND": "webhook", "OPTIONS": URL, "OPTS": {}}, r"unknown key 'OPTS'"),
]


@pytest.mark.parametrize(("entry", "message"), BAD_SETTINGS)
def test_bad_settings_name_the_key(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(NotifierConfigError, match=message):
        build_notifier("x", entry)


def test_settings_build_the_notifier() -> None:
    notifier = build_notifier(
        "slack",
        {"BACKEND": "webhook", "OPTIONS": {"URL": "https://example.invalid/h", "TIMEOUT": "2s",
         "RETRIES": 5, "WHEN": ["failed"], "ON_RETRY": True, "TEXT": True}},
    )  # fmt: skip
    assert isinstance(notifier, WebhookNotifier)
    assert (notifier.timeout, notifier.text, notifier.on_retry) == (2.0, True, True)
    assert notifier.when == {RunStatus.FAILED}
    assert notifier.delivery.backoff.retries == 5


def test_installed_notifiers_are_listed_for_exporters() -> None:
    hooks = RunHooks()
    notifier = WebhookNotifier("listed", url="http://127.0.0.1:9/").install(hooks)
    assert notifier in installed_notifiers()
    notifier.uninstall(hooks)
    assert notifier not in installed_notifiers()
