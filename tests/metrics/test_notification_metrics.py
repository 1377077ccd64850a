"""``tickwork_notifications_total``: the notifiers' own counts, read at every scrape."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

from scheduler.model.jobs import JobSpec
from scheduler.model.runs import RunStatus, Trigger
from scheduler.monitoring.events import RunEvent
from scheduler.monitoring.hooks import RunHooks
from scheduler.monitoring.metrics import Metrics
from scheduler.monitoring.notifiers.delivery import Backoff
from scheduler.monitoring.notifiers.webhook import WebhookNotifier

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


def closed_port() -> int:
    """A local port nothing listens on: a POST there is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def failure(status: RunStatus) -> RunEvent:
    return RunEvent(
        job=JobSpec.build(name="report", task="app.report", cron="0 * * * *"),
        run_id=7,
        status=status,
        scheduled_for=T0,
        due_at=T0,
        attempt=1,
        trigger=Trigger.SCHEDULE,
        finished_at=T0,
    )


def sample(metrics: Metrics, notifier: str, outcome: str) -> float | None:
    labels = {"notifier": notifier, "outcome": outcome}
    return metrics.registry.get_sample_value("tickwork_notifications_total", labels)


def test_the_installed_notifiers_counts_are_exported_by_outcome() -> None:
    hooks = RunHooks()
    url = f"http://127.0.0.1:{closed_port()}/hook"
    pager = WebhookNotifier("pager", url=url, timeout=1.0, backoff=Backoff(retries=0))
    pager.install(hooks)
    try:
        hooks.emit_finished(failure(RunStatus.FAILED))  # refused: failed
        hooks.emit_finished(failure(RunStatus.SUCCEEDED))  # not a problem: not a notification
    finally:
        pager.close(timeout=5.0)
        pager.uninstall(hooks)
    counts = [("pager", dict(pager.counts))]
    metrics = Metrics(notifications=lambda: counts)
    assert sample(metrics, "pager", "failed") == 1.0
    assert sample(metrics, "pager", "sent") == 0.0
    assert pager.counts["failed"] == 1


def test_by_default_the_process_notifiers_are_read() -> None:
    hooks = RunHooks()
    url = f"http://127.0.0.1:{closed_port()}/hook"
    pager = WebhookNotifier("pager-default", url=url, timeout=1.0, backoff=Backoff(retries=0))
    pager.install(hooks)
    try:
        metrics = Metrics()
        assert sample(metrics, "pager-default", "sent") == 0.0
    finally:
        pager.close(timeout=5.0)
        pager.uninstall(hooks)
    assert sample(Metrics(), "pager-default", "sent") is None  # uninstalled: gone
