"""Reading a notifier's ``OPTIONS``: each key checked, unknown keys refused by name.

Every error is a :class:`NotifierConfigError` that says which notifier and
which key (``SCHEDULER['NOTIFIERS']['slack']['OPTIONS']['TIMEOUT']: ...``),
which the Django system checks and ``tickwork run`` report as they are.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from ...errors import SchedulerError
from ...model.runs import TERMINAL_STATUSES, RunStatus
from ...schedules.durations import parse_duration

__all__ = ["NotifierConfigError", "OptionReader"]

_STATUSES = sorted(status.value for status in TERMINAL_STATUSES)


class NotifierConfigError(SchedulerError, ValueError):
    """A notifier's settings are wrong; the message names the notifier and the key."""


class OptionReader:
    """The ``OPTIONS`` of notifier ``where``, read key by key; :meth:`done` refuses the rest."""

    def __init__(self, where: str, options: object) -> None:
        if not isinstance(options, Mapping):
            raise NotifierConfigError(f"{where}['OPTIONS'] must be a dict, got {options!r}")
        self.where = where
        self._options: Mapping[Any, Any] = options
        self._read: set[str] = set()

    def _get(self, key: str, default: object) -> object:
        self._read.add(key)
        return self._options.get(key, default)

    def _error(self, key: str, expected: str, value: object) -> NotifierConfigError:
        return NotifierConfigError(
            f"{self.where}['OPTIONS'][{key!r}] must be {expected}, got {value!r}"
        )

    def text(self, key: str, default: str | None = None) -> str:
        """A non-empty string; required when there is no ``default``."""
        value = self._get(key, default)
        if isinstance(value, str) and value.strip():
            return value
        raise self._error(
            key, "a non-empty string" + (" (it is required)" * (default is None)), value
        )

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if isinstance(value, bool):
            return value
        raise self._error(key, "True or False", value)

    def count(self, key: str, default: int, *, least: int = 0) -> int:
        value = self._get(key, default)
        if isinstance(value, int) and not isinstance(value, bool) and value >= least:
            return value
        raise self._error(key, f"a whole number of at least {least}", value)

    def seconds(self, key: str, default: float) -> float:
        """A duration above 0: seconds, a timedelta or a string such as ``'30s'``."""
        found = self.duration(key, timedelta(seconds=default))
        return found.total_seconds()

    def duration(self, key: str, default: timedelta) -> timedelta:
        value = self._get(key, default)
        try:
            found = parse_duration(value)  # type: ignore[arg-type]  # checked below
        except (SchedulerError, TypeError, ValueError, AttributeError):
            found = timedelta(0)
        if isinstance(value, bool) or found <= timedelta(0):
            raise self._error(key, "a duration above 0 such as 5, '30s' or '30m'", value)
        return found

    def headers(self, key: str) -> dict[str, str]:
        """A dict of HTTP header names to values (empty by default)."""
        value = self._get(key, {})
        if isinstance(value, Mapping) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            return dict(value)
        raise self._error(key, "a dict of header names to string values", value)

    def statuses(self, key: str, default: Iterable[RunStatus]) -> frozenset[RunStatus]:
        """Run statuses, by their names (``["failed", "lost"]``)."""
        value = self._get(key, None)
        if value is None:
            return frozenset(default)
        names = [value] if isinstance(value, str) else value
        if isinstance(names, list | tuple | set | frozenset) and names:
            if all(isinstance(name, str) and name in _STATUSES for name in names):
                return frozenset(RunStatus(name) for name in names)
        raise self._error(key, f"a list of run statuses among {', '.join(_STATUSES)}", value)

    def done(self) -> None:
        """Refuse every key no reader asked for, suggesting the closest known one."""
        for key in self._options:
            if key in self._read:
                continue
            close = difflib.get_close_matches(str(key).upper(), sorted(self._read), n=1)
            guess = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(sorted(self._read))
            raise NotifierConfigError(
                f"{self.where}['OPTIONS'] has an unknown option {key!r}{guess} "
                f"(this backend takes: {known})"
            )
