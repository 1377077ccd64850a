"""Mail to the site's admins when a job fails: ``BACKEND: "mail_admins"``.

``SCHEDULER["NOTIFIERS"] = {"ops": {"BACKEND": "mail_admins", "OPTIONS":
{"THROTTLE": "30m"}}}`` sends Django's :func:`~django.core.mail.mail_admins`
(to ``ADMINS``, through ``EMAIL_BACKEND``) for each failed, timed-out, lost
or missed run, at most one per job per ``THROTTLE`` window
(:mod:`scheduler.django.throttle`, in the cache ``CACHE``); the runs held
back are summarised in the job's next mail.  Mail is sent from the
notifier's background thread, retried like a webhook.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from typing import Any

from django.core.cache import caches
from django.core.mail import mail_admins
from django.urls import NoReverseMatch, reverse

from ..clock import Clock
from ..model.words import plural
from ..monitoring.events import RunEvent
from ..monitoring.notifiers.base import Notifier
from ..monitoring.notifiers.delivery import Skip
from ..monitoring.notifiers.options import NotifierConfigError, OptionReader
from ..monitoring.notifiers.payload import error_lines, subject
from ..schedules.durations import format_duration
from .throttle import CacheThrottle, Held

__all__ = ["MailAdminsNotifier", "mail_body"]

_ERROR_LINES = 10


class MailAdminsNotifier(Notifier):
    """Mails ``ADMINS`` about the runs it wants, one mail per job per ``throttle``."""

    backend = "mail_admins"

    def __init__(
        self,
        name: str,
        *,
        throttle: timedelta = timedelta(minutes=30),
        cache: str = "default",
        **common: Any,
    ) -> None:
        super().__init__(name, **common)
        self.throttle = CacheThrottle(caches[cache], throttle, prefix=f"tickwork:mail:{name}")

    @classmethod
    def from_options(cls, name: str, options: OptionReader, *, clock: Clock) -> Notifier:
        """``THROTTLE`` (30m), ``CACHE`` (``"default"``), and the common options."""
        throttle = options.duration("THROTTLE", timedelta(minutes=30))
        cache = options.text("CACHE", "default")
        common = cls.common_options(options)
        options.done()
        from django.conf import settings

        if cache not in settings.CACHES:
            raise NotifierConfigError(
                f"{options.where}['OPTIONS']['CACHE'] must name a cache in CACHES, got {cache!r}"
            )
        return cls(name, throttle=throttle, cache=cache, clock=clock, **common)

    def deliver(self, event: RunEvent) -> None:
        """Mail the event, or hold it back (:class:`Skip`) inside the job's window.

        The window is counted in the runs' own instants (when each ended), so
        a queue that is behind throttles as the runs happened."""
        held = self.throttle.admit(event.job_name, event.finished_at or self.clock.now())
        if held is None:
            raise Skip
        title = subject(event)
        if held.count:
            title += f" (+{held.count} held back)"
        mail_admins(title, mail_body(event, held, self.throttle.window))


def mail_body(event: RunEvent, held: Held, window: timedelta) -> str:
    """The mail's text: what ran, where, the error's first lines, and what was held back."""
    lines = [
        f"Job:      {event.job_name} ({event.job.task})",
        f"Status:   {event.status.value}",
        f"Slot:     {event.scheduled_for.isoformat()}",
        f"Run:      {event.run_id if event.run_id is not None else '(no run id)'}, "
        f"attempt {event.attempt} ({event.trigger.value})",
        f"Replica:  {event.replica_id or '-'}; worker: {event.worker or '-'}",
    ]
    if event.duration is not None:
        lines.append(f"Duration: {event.duration.total_seconds():g}s")
    if event.will_retry:
        lines.append("It will be retried.")
    url = _admin_path(event.run_id)
    if url:
        lines.append(f"Admin:    {url}")
    error = error_lines(event, _ERROR_LINES)
    if error:
        lines += ["", "Error:", *(f"  {line}" for line in error)]
    if held.count and held.first and held.last:
        lines += [
            "",
            f"{plural(held.count, 'more notification')} for this job "
            f"{'was' if held.count == 1 else 'were'} held back by the "
            f"{format_duration(window)} throttle, from {held.first.isoformat()} "
            f"to {held.last.isoformat()}.",
        ]
    return "\n".join(lines) + "\n"


def _admin_path(run_id: int | None) -> str:
    if run_id is None:
        return ""
    with suppress(NoReverseMatch):
        return reverse("admin:scheduler_run_change", args=[run_id])
    return ""
