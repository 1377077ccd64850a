"""``settings.SCHEDULER``, read in one place, with its defaults.

.. code-block:: python

    SCHEDULER = {
        "SCHEDULES": BASE_DIR / "schedules.yaml",
        "EXECUTORS": {
            "default": {
                "BACKEND": "scheduler.executors.thread.ThreadExecutor",
                "OPTIONS": {"max_workers": 8},
            },
        },
        "TASKS": ["billing.jobs.*"],
        "POLL_INTERVAL": 1,
        "HISTORY": {"KEEP_LAST": 1000, "MAX_AGE": "30d"},
        "METRICS": {"PORT": 9100, "HOST": "0.0.0.0"},
    }

:func:`read_settings` reads every key, noting each problem it finds (for the
system checks, which report them all with ids and hints) and using the default
in place of a bad value.  :func:`scheduler_settings` is what the scheduler and
the commands use: the settings, or :class:`~django.core.exceptions.ImproperlyConfigured`
naming the first problem.  Nothing is read at import time, and nothing is
cached, so ``override_settings`` works in tests.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS

from ..engine.loop import EngineConfig, Retention
from ..errors import InvalidDuration
from ..monitoring.address import DEFAULT_HOST
from ..schedules.durations import parse_duration
from .metrics_setting import read_metrics

__all__ = [
    "DEFAULT_EXECUTORS",
    "KEYS",
    "Problem",
    "SchedulerSettings",
    "read_settings",
    "scheduler_settings",
]

#: The executor every job uses unless it names another: a thread pool.
DEFAULT_EXECUTORS: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "scheduler.executors.thread.ThreadExecutor", "OPTIONS": {}},
}
_DEFAULT_RETENTION = Retention()
_DEFAULT_ENGINE = EngineConfig()

#: Every key of ``SCHEDULER``, in the order the settings reference lists them.
KEYS = (
    "SCHEDULES",
    "EXECUTORS",
    "TASKS",
    "DATABASE",
    "POLL_INTERVAL",
    "BATCH_SIZE",
    "HEARTBEAT_INTERVAL",
    "STALE_AFTER",
    "START_TIMEOUT",
    "SHUTDOWN_GRACE",
    "GROUP_COMMIT",
    "HISTORY",
    "METRICS",
    "NOTIFIERS",
    "SENTRY_CRONS",
    "SENTRY_CRONS_EXCLUDE",
)
_HISTORY_KEYS = ("KEEP_LAST", "MAX_AGE")


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with ``SCHEDULER``: a system check id, what, and what to do."""

    id: str
    message: str
    hint: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulerSettings:
    """``settings.SCHEDULER`` with every default filled in."""

    schedules: Path | None = None
    executors: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: dict(DEFAULT_EXECUTORS)
    )
    tasks: tuple[str, ...] = ()
    database: str = DEFAULT_DB_ALIAS
    poll_interval: float = _DEFAULT_ENGINE.poll_interval
    batch_size: int = _DEFAULT_ENGINE.batch_size
    heartbeat_interval: timedelta = _DEFAULT_ENGINE.heartbeat_interval
    stale_after: timedelta = _DEFAULT_ENGINE.stale_after
    start_timeout: timedelta | None = _DEFAULT_ENGINE.start_timeout
    shutdown_grace: float = _DEFAULT_ENGINE.shutdown_grace
    group_commit: float = _DEFAULT_ENGINE.group_commit
    keep_last: int | None = _DEFAULT_RETENTION.keep_last
    max_age: timedelta | None = _DEFAULT_RETENTION.max_age
    #: Where to serve /metrics and /healthz (``METRICS``); no port, no endpoint.
    metrics_port: int | None = None
    metrics_host: str = DEFAULT_HOST
    #: ``NOTIFIERS``: named ``{"BACKEND": ..., "OPTIONS": ...}`` entries, checked when built
    #: (:mod:`scheduler.django.notifications`).
    notifiers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: The zone of YAML jobs in a file that sets none: Django's ``TIME_ZONE``.
    timezone: str = "UTC"
    #: Sentry Crons check-ins: ``None`` while Sentry is initialised, ``True`` always, ``False``
    #: never.
    sentry_crons: bool | None = None
    #: Job-name patterns (``fnmatch``) that send no Sentry Crons check-ins.
    sentry_crons_exclude: tuple[str, ...] = ()

    def engine_config(self, **overrides: Any) -> EngineConfig:
        """The engine's tuning, from these settings (``overrides`` win)."""
        values: dict[str, Any] = {
            "poll_interval": self.poll_interval,
            "batch_size": self.batch_size,
            "heartbeat_interval": self.heartbeat_interval,
            "stale_after": self.stale_after,
            "start_timeout": self.start_timeout,
            "shutdown_grace": self.shutdown_grace,
            "group_commit": self.group_commit,
            "retention": Retention(keep_last=self.keep_last, max_age=self.max_age),
        }
        return EngineConfig(**{**values, **overrides})


def scheduler_settings() -> SchedulerSettings:
    """The settings; :class:`ImproperlyConfigured` with the first problem, if any."""
    found, problems = read_settings()
    if problems:
        first = problems[0]
        raise ImproperlyConfigured(f"{first.message} ({first.id}). {first.hint}")
    return found


def read_settings(raw: object = None) -> tuple[SchedulerSettings, list[Problem]]:
    """``raw`` (default: ``settings.SCHEDULER``) read key by key; every problem found."""
    if raw is None:
        raw = getattr(settings, "SCHEDULER", {})
    reader = _Reader()
    return reader.read(raw), reader.problems


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, check_id: str, message: str, hint: str) -> None:
        self.problems.append(Problem(id=check_id, message=message, hint=hint))

    def read(self, raw: object) -> SchedulerSettings:
        if not isinstance(raw, Mapping):
            self.problem(
                "scheduler.E001",
                f"SCHEDULER must be a dict, got {type(raw).__name__}",
                'Write SCHEDULER = {"SCHEDULES": BASE_DIR / "schedules.yaml"}, or leave it out.',
            )
            return SchedulerSettings()
        self.unknown_keys(raw, KEYS, "SCHEDULER")
        values: dict[str, Any] = {
            "schedules": self.schedules(raw.get("SCHEDULES")),
            "executors": self.executors(raw.get("EXECUTORS", DEFAULT_EXECUTORS)),
            "tasks": self.tasks(raw.get("TASKS", ())),
            "database": self.database(raw.get("DATABASE", DEFAULT_DB_ALIAS)),
            "poll_interval": self.seconds(raw, "POLL_INTERVAL", _DEFAULT_ENGINE.poll_interval),
            "batch_size": self.count(raw, "BATCH_SIZE", _DEFAULT_ENGINE.batch_size),
            "shutdown_grace": self.seconds(
                raw, "SHUTDOWN_GRACE", _DEFAULT_ENGINE.shutdown_grace, zero=True
            ),
            "group_commit": self.seconds(
                raw, "GROUP_COMMIT", _DEFAULT_ENGINE.group_commit, zero=True
            ),
            **self.replicas(raw),
            "start_timeout": self.optional_duration(
                raw, "START_TIMEOUT", _DEFAULT_ENGINE.start_timeout
            ),
            **self.history(raw.get("HISTORY", {})),
            **read_metrics(raw.get("METRICS"), self),
            "notifiers": self.notifiers(raw.get("NOTIFIERS", {})),
            "timezone": getattr(settings, "TIME_ZONE", None) or "UTC",
            **self.sentry_crons(raw),
        }
        return SchedulerSettings(**values)

    def sentry_crons(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        crons = raw.get("SENTRY_CRONS")
        if crons is None or isinstance(crons, bool):
            found["sentry_crons"] = crons
        else:
            self.problem(
                "scheduler.E002",
                f"SCHEDULER['SENTRY_CRONS'] must be True, False or None, got {crons!r}",
                "None (the default) sends check-ins when sentry_sdk.init() ran with a DSN; "
                "True always (initialising Sentry from SENTRY_DSN); False never.",
            )
        exclude = raw.get("SENTRY_CRONS_EXCLUDE", ())
        if isinstance(exclude, list | tuple) and all(isinstance(p, str) for p in exclude):
            found["sentry_crons_exclude"] = tuple(exclude)
        else:
            self.problem(
                "scheduler.E002",
                f"SCHEDULER['SENTRY_CRONS_EXCLUDE'] must be a list of job-name patterns, "
                f"got {exclude!r}",
                'Write "SENTRY_CRONS_EXCLUDE": ["reports.*"] (fnmatch patterns).',
            )
        return found

    def unknown_keys(self, raw: Mapping[Any, Any], known: tuple[str, ...], where: str) -> None:
        for key in raw:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key).upper(), known, n=1)
            guess = f"Did you mean {close[0]!r}? " if close else ""
            self.problem(
                "scheduler.E001",
                f"{where} has an unknown key {key!r}",
                f"{guess}The keys are {', '.join(known)}.",
            )

    def schedules(self, value: object) -> Path | None:
        if value is None or isinstance(value, str | Path):
            return None if value is None else Path(value)
        self.problem(
            "scheduler.E002",
            f"SCHEDULER['SCHEDULES'] must be a path, got {value!r}",
            'Give the schedules file\'s path, such as BASE_DIR / "schedules.yaml".',
        )
        return None

    def executors(self, value: object) -> dict[str, dict[str, Any]]:
        hint = (
            'Write {"default": {"BACKEND": "scheduler.executors.thread.ThreadExecutor", '
            '"OPTIONS": {...}}, ...}: one entry per executor, "default" among them.'
        )
        if not isinstance(value, Mapping) or not value:
            self.problem(
                "scheduler.E003",
                f"SCHEDULER['EXECUTORS'] must be a non-empty dict, got {value!r}",
                hint,
            )
            return dict(DEFAULT_EXECUTORS)
        if "default" not in value:
            self.problem(
                "scheduler.E003",
                "SCHEDULER['EXECUTORS'] has no 'default' executor",
                "Jobs use the executor called 'default' unless they name another. " + hint,
            )
        return {str(name): entry for name, entry in value.items()}

    def notifiers(self, value: object) -> dict[str, Mapping[str, Any]]:
        if isinstance(value, Mapping) and all(isinstance(e, Mapping) for e in value.values()):
            return {str(name): entry for name, entry in value.items()}
        self.problem(
            "scheduler.E010",
            f"SCHEDULER['NOTIFIERS'] must be a dict of named notifier dicts, got {value!r}",
            'Write {"ops": {"BACKEND": "mail_admins", "OPTIONS": {"THROTTLE": "30m"}}}.',
        )
        return {}

    def tasks(self, value: object) -> tuple[str, ...]:
        if isinstance(value, list | tuple) and all(isinstance(p, str) for p in value):
            return tuple(value)
        self.problem(
            "scheduler.E004",
            f"SCHEDULER['TASKS'] must be a list of dotted-path patterns, got {value!r}",
            'Write "TASKS": ["myapp.jobs.*"], or register tasks with @job instead.',
        )
        return ()

    def database(self, value: object) -> str:
        if isinstance(value, str) and value in settings.DATABASES:
            return value
        self.problem(
            "scheduler.E002",
            f"SCHEDULER['DATABASE'] must name a database in DATABASES, got {value!r}",
            f"The aliases in DATABASES are: {', '.join(map(repr, settings.DATABASES))}.",
        )
        return DEFAULT_DB_ALIAS

    def replicas(self, raw: Mapping[str, Any]) -> dict[str, timedelta]:
        beat = self.duration(raw, "HEARTBEAT_INTERVAL", _DEFAULT_ENGINE.heartbeat_interval)
        stale = self.duration(raw, "STALE_AFTER", _DEFAULT_ENGINE.stale_after)
        if stale <= 2 * beat:
            self.problem(
                "scheduler.E002",
                f"SCHEDULER['STALE_AFTER'] ({stale}) must exceed twice "
                f"SCHEDULER['HEARTBEAT_INTERVAL'] ({beat})",
                "Otherwise a live replica that is a little late looks dead to the others.",
            )
            return {}
        return {"heartbeat_interval": beat, "stale_after": stale}

    def history(self, value: object) -> dict[str, Any]:
        if value is None:
            return {"keep_last": None, "max_age": None}
        if not isinstance(value, Mapping):
            self.problem(
                "scheduler.E002",
                f"SCHEDULER['HISTORY'] must be a dict, got {value!r}",
                'Write "HISTORY": {"KEEP_LAST": 1000, "MAX_AGE": "30d"}.',
            )
            return {}
        self.unknown_keys(value, _HISTORY_KEYS, "SCHEDULER['HISTORY']")
        keep_last = value.get("KEEP_LAST", _DEFAULT_RETENTION.keep_last)
        if keep_last is not None and (
            not isinstance(keep_last, int) or isinstance(keep_last, bool) or keep_last < 0
        ):
            self.problem(
                "scheduler.E002",
                f"SCHEDULER['HISTORY']['KEEP_LAST'] must be a whole number of 0 or more, "
                f"or None, got {keep_last!r}",
                "It is how many finished runs to keep per job; None keeps them all.",
            )
            keep_last = _DEFAULT_RETENTION.keep_last
        default_age = _DEFAULT_RETENTION.max_age or timedelta(days=30)
        max_age: timedelta | None = None
        if value.get("MAX_AGE", default_age) is not None:
            max_age = self.duration(value, "MAX_AGE", default_age, where="SCHEDULER['HISTORY']")
        return {"keep_last": keep_last, "max_age": max_age}

    def seconds(
        self, raw: Mapping[str, Any], key: str, default: float, *, zero: bool = False
    ) -> float:
        found = self.duration(raw, key, timedelta(seconds=default), zero=zero)
        return default if found is None else found.total_seconds()

    def optional_duration(
        self, raw: Mapping[str, Any], key: str, default: timedelta | None
    ) -> timedelta | None:
        """A duration above 0, or ``None`` to switch the limit off."""
        if key not in raw:
            return default
        if raw[key] is None:
            return None
        return self.duration(raw, key, default or timedelta(hours=1))

    def duration(
        self,
        raw: Mapping[str, Any],
        key: str,
        default: timedelta,
        *,
        zero: bool = False,
        where: str = "SCHEDULER",
    ) -> timedelta:
        value = raw.get(key, default)
        try:
            found = parse_duration(value)
        except (InvalidDuration, TypeError, AttributeError) as error:
            reason = str(error) if isinstance(error, InvalidDuration) else f"got {value!r}"
        else:
            if found > timedelta(0) or (zero and found == timedelta(0)):
                return found
            reason = f"got {value!r}"
        least = "0 or more" if zero else "above 0"
        self.problem(
            "scheduler.E002",
            f"{where}[{key!r}] must be a duration {least}: {reason}",
            "Give seconds (1.5), a timedelta, or a string such as '90s', '15m' or '1h30m'.",
        )
        return default

    def count(self, raw: Mapping[str, Any], key: str, default: int) -> int:
        value = raw.get(key, default)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        self.problem(
            "scheduler.E002",
            f"SCHEDULER[{key!r}] must be a whole number of at least 1, got {value!r}",
            f"The default is {default}.",
        )
        return default
