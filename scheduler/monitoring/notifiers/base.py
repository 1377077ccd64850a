"""What every notifier is: a run hook that picks the events it should send, then
hands them to a background :class:`~.delivery.Delivery`.

Which runs notify (:meth:`Notifier.wants`):

* a run's end, never its start;
* whose status is in the notifier's ``when`` (default: failed, timed out,
  lost, missed), unless the job's own ``notify: {when: [...]}`` says otherwise;
* not a failed attempt that will be retried, unless ``on_retry`` is set (the
  last attempt notifies, so a flaky job that succeeds on retry stays quiet);
* of a job that did not opt out (``notify: false``) and, if it names its
  notifiers (``notify: [slack]``), names this one.

A subclass says how to send one event (:meth:`Notifier.deliver`) and how to
read its settings (:meth:`Notifier.from_options`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from ...clock import Clock, SystemClock
from ...model.notify import NOTIFIER_NAME
from ...model.runs import RunStatus
from ..events import PROBLEM_STATUSES, RunEvent
from ..hooks import RunHooks
from ..hooks import hooks as default_hooks
from .delivery import Backoff, Delivery
from .options import NotifierConfigError, OptionReader

__all__ = ["Notifier", "installed_notifiers"]

# The notifiers installed on some hooks in this process, for exporters of their counts.
_installed: weakref.WeakSet[Notifier] = weakref.WeakSet()


def installed_notifiers() -> list[Notifier]:
    """The notifiers of this process that are installed on run hooks, by name: what
    a metrics exporter reads ``counts`` from (``tickwork_notifications_total``)."""
    return sorted(_installed, key=lambda notifier: notifier.name)


class Notifier:
    """A named run hook that notifies someone of the runs it :meth:`wants`.

    Call it with a :class:`~scheduler.monitoring.events.RunEvent` (or
    :meth:`install` it on the hooks): it decides at once, and sends in its
    background thread, so the recording thread never waits.  ``counts``
    says how many notifications were sent, failed, dropped or skipped.
    """

    #: The short ``BACKEND`` name, for messages.
    backend: ClassVar[str] = ""

    def __init__(
        self,
        name: str,
        *,
        when: Iterable[RunStatus] = PROBLEM_STATUSES,
        on_retry: bool = False,
        backoff: Backoff | None = None,
        queue_size: int = 1000,
        clock: Clock | None = None,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        if not isinstance(name, str) or not NOTIFIER_NAME.fullmatch(name):
            raise NotifierConfigError(
                f"a notifier's name must be 1-64 letters, digits, '_', '.' or '-', got {name!r}"
            )
        self.name = name
        self.when = frozenset(when)
        self.on_retry = on_retry
        self.clock = clock or SystemClock()
        self.delivery = Delivery(
            name, self.deliver, backoff=backoff, queue_size=queue_size, wait=wait
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    @classmethod
    def from_options(cls, name: str, options: OptionReader, *, clock: Clock) -> Notifier:
        """Build one from ``SCHEDULER["NOTIFIERS"][name]["OPTIONS"]``; the subclass reads
        its own keys, then :meth:`common_options`, then calls ``options.done()``."""
        raise NotImplementedError

    @staticmethod
    def common_options(options: OptionReader) -> dict[str, Any]:
        """The options every notifier takes: ``WHEN``, ``ON_RETRY``, ``QUEUE_SIZE``,
        ``RETRIES``, ``BACKOFF`` and ``BACKOFF_MAX``."""
        backoff = Backoff(
            retries=options.count("RETRIES", 3),
            first=options.seconds("BACKOFF", 1.0),
            cap=options.seconds("BACKOFF_MAX", 60.0),
        )
        return {
            "when": options.statuses("WHEN", PROBLEM_STATUSES),
            "on_retry": options.boolean("ON_RETRY", False),
            "queue_size": options.count("QUEUE_SIZE", 1000, least=1),
            "backoff": backoff,
        }

    def wants(self, event: RunEvent) -> bool:
        """Whether ``event`` should be sent by this notifier (see the module's rules)."""
        if not event.finished or (event.will_retry and not self.on_retry):
            return False
        return event.job.notify.allows(self.name, event.status, self.when)

    def __call__(self, event: RunEvent) -> None:
        """The hook: queue ``event`` if this notifier :meth:`wants` it."""
        if self.wants(event):
            self.delivery.submit(event)

    def deliver(self, event: RunEvent) -> None:
        """Send one event, in the background thread; raise to have it retried."""
        raise NotImplementedError

    @property
    def counts(self) -> dict[str, int]:
        """Notifications by outcome: ``sent``, ``failed``, ``dropped``, ``skipped``."""
        return self.delivery.counts

    def install(self, hooks: RunHooks | None = None) -> Notifier:
        """Register on ``hooks`` (default: the process's) for every run end; returns self."""
        (hooks if hooks is not None else default_hooks).on_finished(self)
        _installed.add(self)
        return self

    def uninstall(self, hooks: RunHooks | None = None) -> None:
        """Stop hearing of runs on ``hooks`` (default: the process's)."""
        (hooks if hooks is not None else default_hooks).remove(self)
        _installed.discard(self)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued notification is handled; ``False`` on timeout."""
        return self.delivery.flush(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued within ``timeout`` seconds, drop the rest, stop the thread."""
        self.delivery.close(timeout)
