"""Sentry Crons check-ins for every run of every job, sent from the run hooks.

The one module that imports ``sentry_sdk`` (the ``sentry`` extra).  When a run
starts, :class:`SentryCrons` sends an ``in_progress`` check-in to the job's
monitor; when it ends, ``ok`` or ``error`` with the run's duration under the
same check-in id.  A run that ends in a process that never saw it start (a
run recovered as ``lost`` by another replica) sends one check-in on its own.
Every check-in carries the monitor's configuration, read from the job's own
definition (:mod:`scheduler.monitoring.sentry_monitors`), so Sentry creates and
updates the monitor itself and alerts on a missed slot even when no scheduler
is alive to say anything.

Check-ins go through the SDK's background transport: a hook only queues them.

Register the hooks with :func:`enable` in every process that records runs: the
scheduler, and each Celery worker, where runs handed to Celery start and end.
The Django app does this by itself (``SCHEDULER["SENTRY_CRONS"]``).
"""

from __future__ import annotations

import fnmatch
import logging
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, cast

import sentry_sdk
from sentry_sdk.crons import capture_checkin
from sentry_sdk.utils import BadDsn, Dsn

from ..model.jobs import JobSpec
from ..schedules.kinds import Once
from .events import RunEvent
from .hooks import RunHooks
from .hooks import hooks as default_hooks
from .sentry_monitors import (
    ON_TIME,
    Monitor,
    SentryCronsError,
    Unmonitored,
    checkin_status,
    monitor_for,
)
from .sentry_monitors import slug_clashes as find_clashes

if TYPE_CHECKING:
    from sentry_sdk._types import MonitorConfig

__all__ = [
    "SentryCrons",
    "disable",
    "enable",
    "enable_when_active",
    "enabled",
    "init",
    "sentry_active",
]

logger = logging.getLogger(__name__)

#: How many started runs' check-in ids a process remembers until they end.
TRACKED_RUNS = 10_000


def sentry_active() -> bool:
    """Whether ``sentry_sdk.init()`` ran in this process with a DSN to send to."""
    client = sentry_sdk.get_client()
    return client.is_active() and bool(client.dsn)


class SentryCrons:
    """Sends the check-ins of the runs whose hooks fire in this process.

    ``exclude`` holds job-name patterns (``fnmatch``: ``reports.*``) whose jobs
    send nothing.  ``on_time`` is how late a start may be (before the job's
    jitter) and still not count as missed in Sentry.  With ``when_active``, a
    check-in is sent only while the SDK is initialised with a DSN, so the hooks
    may be registered before ``sentry_sdk.init()`` runs.
    """

    def __init__(
        self,
        *,
        exclude: Sequence[str] = (),
        on_time: timedelta = ON_TIME,
        when_active: bool = False,
        tracked: int = TRACKED_RUNS,
    ) -> None:
        self.exclude = tuple(exclude)
        self.on_time = on_time
        self.when_active = when_active
        self._tracked = tracked
        self._ids: OrderedDict[int, str] = OrderedDict()
        self._slugs: dict[str, str] = {}
        self._warned: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        # Each access to a method makes a new bound method: keep the registered ones.
        self._hooks = (self.started, self.finished)

    def register(self, hooks: RunHooks) -> SentryCrons:
        """Listen to ``hooks``' started and finished events; returns ``self``."""
        hooks.on_started(self._hooks[0])
        hooks.on_finished(self._hooks[1])
        return self

    def unregister(self, hooks: RunHooks) -> None:
        """Stop listening to ``hooks``."""
        for hook in self._hooks:
            hooks.remove(hook)

    def started(self, event: RunEvent) -> None:
        """Send ``in_progress`` for a run that starts here, and remember its check-in id."""
        monitor = self._monitor(event.job)
        if monitor is None or event.run_id is None:
            return
        check_in_id = capture_checkin(
            monitor_slug=monitor.slug, status="in_progress", monitor_config=_config(monitor)
        )
        if check_in_id is None:
            return
        with self._lock:
            self._ids[event.run_id] = check_in_id
            while len(self._ids) > self._tracked:
                self._ids.popitem(last=False)

    def finished(self, event: RunEvent) -> None:
        """Send ``ok`` or ``error`` with the duration, under the id its start was sent with.

        A run whose start was not seen here sends that one check-in alone;
        skipped, missed and cancelled runs send nothing (:func:`checkin_status`).
        """
        check_in_id = None
        if event.run_id is not None:
            with self._lock:
                check_in_id = self._ids.pop(event.run_id, None)
        status = checkin_status(event.status)
        monitor = self._monitor(event.job) if status is not None else None
        if monitor is None or status is None:
            return
        duration = event.duration
        capture_checkin(
            monitor_slug=monitor.slug,
            check_in_id=check_in_id,
            status=status,
            duration=None if duration is None else duration.total_seconds(),
            monitor_config=_config(monitor),
        )

    @property
    def sending(self) -> bool:
        """Whether check-ins are sent now (always, unless ``when_active`` and Sentry is not)."""
        return not self.when_active or sentry_active()

    def check_jobs(self, jobs: Iterable[JobSpec]) -> list[str]:
        """Warn (log) about the monitored ``jobs`` whose names share a slug, and those
        whose schedule Sentry cannot follow; return the warnings.  One-off jobs
        are left out: they never have a monitor."""
        names: list[str] = []
        problems: list[tuple[tuple[str, str], str]] = []
        for job in jobs:
            if self._excluded(job.name) or isinstance(job.schedule, Once):
                continue
            try:
                monitor_for(job, on_time=self.on_time)
            except Unmonitored as error:
                problems.append((("job", job.name), _unmonitored_message(job.name, error)))
                continue
            names.append(job.name)
        for slug, clashing in find_clashes(names).items():
            problems.append((("slug", slug), _clash_message(slug, clashing)))
        for key, message in problems:  # said here, not again when their runs come
            self._warn_once(key, message)
        return [message for _, message in problems]

    def _monitor(self, job: JobSpec) -> Monitor | None:
        if isinstance(job.schedule, Once) or not self.sending or self._excluded(job.name):
            return None  # one-off jobs (defer()) have no monitor, by design: no warning
        try:
            monitor = monitor_for(job, on_time=self.on_time)
        except Unmonitored as error:
            self._warn_once(("job", job.name), _unmonitored_message(job.name, error))
            return None
        with self._lock:
            other = self._slugs.setdefault(monitor.slug, job.name)
        if other != job.name:
            clashing = sorted({job.name, other})
            self._warn_once(("slug", monitor.slug), _clash_message(monitor.slug, clashing))
        return monitor

    def _excluded(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.exclude)

    def _warn_once(self, key: tuple[str, str], message: str) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        logger.warning("%s", message, extra={"event": "sentry_crons_config"})


def enable(
    *,
    dsn: str | None = None,
    hooks: RunHooks | None = None,
    exclude: Sequence[str] = (),
    on_time: timedelta = ON_TIME,
) -> SentryCrons:
    """Send Sentry Crons check-ins for the runs this process records; the one call a
    Celery worker without Django needs (in the module that builds its app).

    Uses the Sentry SDK as initialised in this process; if it is not, initialises
    it with ``dsn`` or ``$SENTRY_DSN``.  Raises
    :class:`~scheduler.monitoring.sentry_monitors.SentryCronsError` when there is no
    DSN or it is malformed.  Replaces the check-ins enabled earlier on the same
    ``hooks`` (default: the process's :data:`~scheduler.monitoring.hooks.hooks`).
    """
    if not sentry_active():
        init(dsn)
    return _install(SentryCrons(exclude=exclude, on_time=on_time), hooks)


def enable_when_active(
    *, hooks: RunHooks | None = None, exclude: Sequence[str] = (), on_time: timedelta = ON_TIME
) -> SentryCrons:
    """Register check-ins that are sent whenever the SDK is initialised with a DSN
    (``SCHEDULER["SENTRY_CRONS"]`` left unset); never initialises it."""
    crons = SentryCrons(exclude=exclude, on_time=on_time, when_active=True)
    return _install(crons, hooks)


def enabled(hooks: RunHooks | None = None) -> SentryCrons | None:
    """The check-ins registered on ``hooks`` by :func:`enable` or :func:`enable_when_active`."""
    with _registry_lock:
        return _enabled.get(_or_default(hooks))


def disable(hooks: RunHooks | None = None) -> None:
    """Stop the check-ins :func:`enable` registered on ``hooks``."""
    hooks = _or_default(hooks)
    with _registry_lock:
        crons = _enabled.pop(hooks, None)
    if crons is not None:
        crons.unregister(hooks)


def init(dsn: str | None) -> None:
    """Initialise the SDK with ``dsn`` (default ``$SENTRY_DSN``); :class:`SentryCronsError`
    saying why not when it is missing or malformed."""
    dsn = dsn or os.environ.get("SENTRY_DSN", "")
    if not dsn:
        raise SentryCronsError(
            "Sentry Crons is switched on but Sentry is not initialised and no DSN is set: "
            "set SENTRY_DSN, or call sentry_sdk.init(dsn=...) first"
        )
    try:
        Dsn(dsn)
    except BadDsn as error:
        raise SentryCronsError(
            f"the Sentry DSN {_redacted(dsn)!r} is malformed: {_redacted(dsn, str(error))}"
        ) from None
    sentry_sdk.init(dsn=dsn)


# By hooks object: a RunHooks is falsy while empty, and a dead one's id() is reused.
_enabled: weakref.WeakKeyDictionary[RunHooks, SentryCrons] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def _install(crons: SentryCrons, hooks: RunHooks | None) -> SentryCrons:
    hooks = _or_default(hooks)
    disable(hooks)
    with _registry_lock:
        _enabled[hooks] = crons.register(hooks)
    return crons


def _or_default(hooks: RunHooks | None) -> RunHooks:
    return default_hooks if hooks is None else hooks


def _config(monitor: Monitor) -> MonitorConfig:
    return cast("MonitorConfig", monitor.config())


def _unmonitored_message(name: str, error: Unmonitored) -> str:
    return f"job {name!r} sends no Sentry check-ins: {error}"


def _clash_message(slug: str, names: Sequence[str]) -> str:
    listed = ", ".join(map(repr, names))
    return (
        f"jobs {listed} share the Sentry monitor slug {slug!r}: their check-ins mix in "
        "one monitor; rename one of them or exclude it (SENTRY_CRONS_EXCLUDE)"
    )


def _redacted(dsn: str, text: str | None = None) -> str:
    """``text`` (default: the DSN itself) without the DSN's keys, whatever comes before
    its ``@``: messages end up in logs."""
    keys, at, host = dsn.rpartition("@")
    if not at:
        return dsn if text is None else text
    scheme, sep, secret = keys.partition("://")
    if text is not None:
        for key in (secret if sep else keys).split(":"):
            text = text.replace(key, "***") if key else text
        return text
    return f"{scheme}{sep}***@{host}" if sep else f"***@{host}"
