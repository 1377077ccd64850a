"""``tickwork run --notify-webhook URL``: webhook notifiers without Django.

Each URL becomes a :class:`~scheduler.monitoring.notifiers.webhook.WebhookNotifier`
named ``webhook`` (the first), ``webhook-2``, ``webhook-3``...: the names a
job's ``notify:`` may list.  They are installed on the process's run hooks
while the scheduler runs, and given a few seconds to send what is queued
when it stops.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ..config.loaded import LoadedSchedules
from ..errors import ConfigError
from ..monitoring.notifiers.base import Notifier
from ..monitoring.notifiers.building import (
    close_notifiers,
    install_notifiers,
    unknown_notifier_names,
)
from ..monitoring.notifiers.webhook import WebhookNotifier

__all__ = ["DRAIN_SECONDS", "check_notify_names", "installed", "webhook_notifiers"]

#: How long a stopping ``tickwork run`` waits for queued notifications.
DRAIN_SECONDS = 5.0


def webhook_notifiers(urls: Sequence[str]) -> list[Notifier]:
    """A webhook notifier per URL; a URL that is not http(s) raises
    :class:`~scheduler.monitoring.notifiers.options.NotifierConfigError`."""
    return [
        WebhookNotifier("webhook" if index == 1 else f"webhook-{index}", url=url)
        for index, url in enumerate(urls, start=1)
    ]


def check_notify_names(schedules: LoadedSchedules, notifiers: Sequence[Notifier]) -> None:
    """Raise :class:`ConfigError`, located, for each job naming a notifier not configured."""
    issues = [
        schedules.issue(job, "notify", message)
        for job, message in unknown_notifier_names(
            schedules.jobs, [notifier.name for notifier in notifiers]
        )
    ]
    if issues:
        raise ConfigError(issues)


@contextmanager
def installed(notifiers: Sequence[Notifier]) -> Iterator[None]:
    """``notifiers`` on the process's run hooks for the block; drained and closed after."""
    install_notifiers(notifiers)
    try:
        yield
    finally:
        close_notifiers(notifiers, timeout=DRAIN_SECONDS)
