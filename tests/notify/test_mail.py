"""The mail_admins notifier: one mail per job per throttle window (Django's locmem
mail backend, a fake clock), the held-back runs summarised in the next mail, the
throttle shared through the cache, and one mail through a real SMTP server."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache

from scheduler.engine import Engine, EngineConfig
from scheduler.executors.immediate import ImmediateExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus, Trigger
from scheduler.monitoring.events import RunEvent
from scheduler.monitoring.hooks import RunHooks
from scheduler.monitoring.notifiers.building import build_notifier
from scheduler.monitoring.notifiers.options import NotifierConfigError
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, MemoryStore
from tests.conftest import _service_missing
from tests.notify.mailers import ADMINS, use_locmem, use_smtp

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NIGHTLY = JobSpec.build(name="nightly", task="app.tasks.report", cron="30 2 * * *")


@pytest.fixture(autouse=True)
def admins(settings: Any) -> Iterator[None]:
    settings.ADMINS = ADMINS
    use_locmem(settings)
    mail.outbox = []
    cache.clear()
    yield
    cache.clear()


def failure(minutes: float, job: JobSpec = NIGHTLY, **changes: Any) -> RunEvent:
    at = T0 + timedelta(minutes=minutes)
    values: dict[str, Any] = {
        "job": job,
        "run_id": int(minutes * 10) + 1,
        "status": RunStatus.FAILED,
        "scheduled_for": at,
        "due_at": at,
        "attempt": 1,
        "trigger": Trigger.SCHEDULE,
        "started_at": at,
        "finished_at": at + timedelta(seconds=2),
        "error": "Traceback (most recent call last):\nValueError: boom",
        "worker": "host:1",
        "replica_id": "r1",
        **changes,
    }
    return RunEvent(**values)


def notifier(throttle: str = "30m", **options: Any) -> Any:
    return build_notifier(
        "ops",
        {"BACKEND": "mail_admins", "OPTIONS": {"THROTTLE": throttle, **options}},
        clock=FakeClock(T0),
    )


def send(target: Any, *events: RunEvent) -> None:
    for event in events:
        target(event)
    assert target.flush(10)


def test_one_mail_per_job_per_window_and_the_rest_summarised_in_the_next() -> None:
    ops = notifier("30m")
    send(ops, failure(0), failure(1), failure(10), failure(29.9))
    assert len(mail.outbox) == 1
    first = mail.outbox[0]
    assert first.subject == "[Django] nightly failed (slot 2026-03-02T09:00:00+00:00)"
    assert first.to == ["ops@example.com"]
    assert "Run:      1, attempt 1 (schedule)" in first.body
    assert "Replica:  r1; worker: host:1" in first.body
    assert "Admin:    /admin/scheduler/run/1/change/" in first.body
    assert "  ValueError: boom" in first.body
    send(ops, failure(31))  # a window after the first mail
    assert len(mail.outbox) == 2
    second = mail.outbox[1]
    assert second.subject.endswith("(slot 2026-03-02T09:31:00+00:00) (+3 held back)")
    assert (
        "3 more notifications for this job were held back by the 30m throttle, "
        "from 2026-03-02T09:01:02+00:00 to 2026-03-02T09:29:56+00:00." in second.body
    )
    send(ops, failure(40))
    assert len(mail.outbox) == 2
    assert ops.counts == {"sent": 2, "failed": 0, "dropped": 0, "skipped": 4}
    ops.close()


def test_each_job_has_its_own_window() -> None:
    ops = notifier("1h")
    other = JobSpec.build(name="weekly", task="app.tasks.report", cron="0 3 * * 1")
    send(ops, failure(0), failure(1, job=other), failure(2), failure(3, job=other))
    assert sorted(m.subject.split()[1] for m in mail.outbox) == ["nightly", "weekly"]
    ops.close()


def test_replicas_sharing_the_cache_send_one_mail_per_window() -> None:
    one, two = notifier("30m"), notifier("30m")
    send(one, failure(0))
    send(two, failure(0.5), failure(5))
    send(one, failure(6))
    assert len(mail.outbox) == 1
    send(two, failure(31))
    assert len(mail.outbox) == 2
    assert "(+3 held back)" in mail.outbox[1].subject
    one.close()
    two.close()


def test_a_failing_job_run_by_the_engine_mails_once_per_window() -> None:
    clock = FakeClock(T0)
    store = MemoryStore()
    tasks = TaskRegistry()

    def boom() -> None:
        raise ValueError("boom")

    tasks.register(boom, name="tests.boom")
    store.save_job(
        JobSpec.build(name="flaky", task="tests.boom", every="5m", source=JobSource.CODE),
        now=T0,
    )
    hooks = RunHooks()
    ops = notifier("30m").install(hooks)
    engine = Engine(
        store,
        {"default": ImmediateExecutor(clock=clock)},
        registry=tasks,
        clock=clock,
        config=EngineConfig(poll_interval=3600.0),
        hooks=hooks,
    )
    engine.loop(until=T0 + timedelta(hours=1))  # fails at 09:05, 09:10, ..., 10:00
    assert ops.flush(10)
    assert len(store.list_runs(limit=100)) == 12
    assert [m.subject for m in mail.outbox] == [
        "[Django] flaky failed (slot 2026-03-02T09:05:00+00:00)",
        "[Django] flaky failed (slot 2026-03-02T09:35:00+00:00) (+5 held back)",
    ]
    assert ops.counts["skipped"] == 10
    ops.close()


def test_opt_out_and_statuses_follow_the_job() -> None:
    ops = notifier("1m")
    quiet = NIGHTLY.with_fields(notify=False)
    elsewhere = NIGHTLY.with_fields(notify=["slack"])
    send(ops, failure(0, job=quiet), failure(2, job=elsewhere))
    send(ops, failure(4, status=RunStatus.SUCCEEDED), failure(6, will_retry=True))
    assert mail.outbox == []
    send(ops, failure(8, status=RunStatus.MISSED, run_id=None, error="", started_at=None))
    (missed,) = mail.outbox
    assert missed.subject == "[Django] nightly missed (slot 2026-03-02T09:08:00+00:00)"
    assert "Run:      (no run id)" in missed.body and "Admin:" not in missed.body
    ops.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"THROTTLE": "soon"}, r"\['OPTIONS'\]\['THROTTLE'\] must be a duration above 0"),
        ({"CACHE": "nowhere"}, r"\['CACHE'\] must name a cache in CACHES, got 'nowhere'"),
        ({"THROTLE": "1m"}, r"unknown option 'THROTLE'; did you mean 'THROTTLE'\?"),
    ],
)
def test_bad_options_name_the_key(options: dict[str, Any], message: str) -> None:
    with pytest.raises(NotifierConfigError, match=message):
        build_notifier("ops", {"BACKEND": "mail_admins", "OPTIONS": options})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_real_smtp_server_receives_the_mail(settings: Any) -> None:
    from aiosmtpd.controller import Controller

    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope.content)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        use_smtp(settings, "127.0.0.1", controller.port)
        settings.SERVER_EMAIL = "tickwork@example.com"
        ops = notifier("30m")
        send(ops, failure(0), failure(1))
        ops.close()
    finally:
        controller.stop()
    assert ops.counts == {"sent": 1, "failed": 0, "dropped": 0, "skipped": 1}
    (raw,) = received
    message = message_from_bytes(raw)
    assert message["Subject"] == "[Django] nightly failed (slot 2026-03-02T09:00:00+00:00)"
    assert message["To"] == "ops@example.com"
    assert message["From"] == "tickwork@example.com"
    assert "ValueError: boom" in message.get_payload()


REDIS_URL = os.environ.get("TICKWORK_TEST_REDIS_CACHE", "redis://127.0.0.1:6379/14")


def test_replicas_sharing_a_real_redis_cache_send_one_mail_per_window(settings: Any) -> None:
    """Two notifiers, as two replicas would have, throttled through Django's Redis cache."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        _service_missing("Redis", error)
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"tickwork-test-{uuid.uuid4().hex[:8]}",
        },
    }
    one, two = notifier("30m", CACHE="shared"), notifier("30m", CACHE="shared")
    try:
        send(one, failure(0))
        send(two, failure(1), failure(2))
        send(one, failure(29))
        send(two, failure(30))
    finally:
        one.close()
        two.close()  # the keys (under a prefix of this run's own) expire with the window
    assert [m.subject.split(" (slot ")[1] for m in mail.outbox] == [
        "2026-03-02T09:00:00+00:00)",
        "2026-03-02T09:30:00+00:00) (+3 held back)",
    ]
