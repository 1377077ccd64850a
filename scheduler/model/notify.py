"""Who hears about a job's runs: :class:`JobNotify`, the job's ``notify:`` setting.

A job that says nothing is told to every configured notifier, each under its
own rules (by default: failed, timed out, lost and missed runs).  A job may
opt out (``notify: false``), name the only notifiers it goes to
(``notify: [slack]``), or also say on which statuses
(``notify: {to: [slack], when: [failed, succeeded]}``).  The statuses' key is
``when``, not ``on``: YAML 1.1 reads a bare ``on`` as ``true``.

The value is written in the job's JSON form (and so in its definition hash)
only when it is not the default, so a job that never set ``notify`` keeps the
hash it had before the field existed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import InvalidJob
from .statuses import TERMINAL_STATUSES, RunStatus

__all__ = ["NOTIFIER_NAME", "JobNotify", "encode_notify"]

#: What a notifier's name may be (the keys of ``SCHEDULER["NOTIFIERS"]``).
NOTIFIER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_STATUSES = sorted(status.value for status in TERMINAL_STATUSES)
_SHAPES = (
    "true, false, a list of notifier names, or a mapping with 'to' (notifier names) "
    "and/or 'when' (run statuses)"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobNotify:
    """A job's ``notify:``: whether, to whom and on what its runs are notified.

    ``enabled`` False silences every notifier for this job.  ``to`` is the
    names of the only notifiers it goes to (``None``: all of them); ``when`` the
    terminal statuses that notify (``None``: each notifier's own ``ON``).
    Names and statuses are kept sorted, so equal settings compare equal.
    """

    enabled: bool = True
    to: tuple[str, ...] | None = None
    when: frozenset[RunStatus] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise InvalidJob(f"expected enabled to be True or False, got {self.enabled!r}")
        if self.to is not None:
            object.__setattr__(self, "to", _names(self.to))
        if self.when is not None:
            object.__setattr__(self, "when", _statuses(self.when))
        if not self.enabled and (self.to is not None or self.when is not None):
            raise InvalidJob("expected no 'to' or 'when' when notifications are off")

    @property
    def is_default(self) -> bool:
        """Whether this is what a job that says nothing gets."""
        return self.enabled and self.to is None and self.when is None

    def allows(self, notifier: str, status: RunStatus, default_on: frozenset[RunStatus]) -> bool:
        """Whether a run of this job that ended ``status`` goes to ``notifier``,
        whose own statuses are ``default_on``."""
        if not self.enabled or (self.to is not None and notifier not in self.to):
            return False
        return status in (self.when if self.when is not None else default_on)

    @classmethod
    def parse(cls, value: object) -> JobNotify:
        """The setting written as YAML, JSON or Python: ``True``, ``False``, a
        list of names, a mapping with ``to`` and/or ``when``, or a :class:`JobNotify`.

        Raises :class:`~scheduler.errors.InvalidJob` saying what was expected.
        """
        if isinstance(value, JobNotify):
            return value
        if value is None or value is True:
            return cls()
        if value is False:
            return cls(enabled=False)
        if isinstance(value, list | tuple):
            return cls(to=_names(value))
        if isinstance(value, Mapping):
            unknown = sorted(map(str, set(value) - {"to", "when"}))
            if unknown or not value:
                found = f"the key {unknown[0]!r}" if unknown else "an empty mapping"
                raise InvalidJob(f"expected {_SHAPES}, got {found}")
            to, when = value.get("to"), value.get("when")
            return cls(
                to=None if to is None else _names(_sequence("to", to)),
                when=None if when is None else _statuses(_sequence("when", when)),
            )
        raise InvalidJob(f"expected {_SHAPES}, got {value!r}")


def encode_notify(notify: JobNotify) -> bool | list[str] | dict[str, list[str] | None]:
    """The JSON form :meth:`JobNotify.parse` reads back: ``False``, ``True``
    (the default), a list of names, or ``{"to": ..., "when": ...}``."""
    if not notify.enabled:
        return False
    if notify.when is None:
        return True if notify.to is None else list(notify.to)
    return {
        "to": None if notify.to is None else list(notify.to),
        "when": sorted(status.value for status in notify.when),
    }


def _sequence(key: str, value: object) -> tuple[object, ...]:
    if isinstance(value, str):
        return (value,)  # "when: failed" reads as "when: [failed]"
    if isinstance(value, list | tuple | frozenset | set):
        return tuple(value)
    raise InvalidJob(f"expected {key!r} to be a list, got {value!r}")


def _names(names: Iterable[object]) -> tuple[str, ...]:
    found: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not NOTIFIER_NAME.fullmatch(name):
            raise InvalidJob(
                f"expected notifier names of 1-64 letters, digits, '_', '.' or '-', got {name!r}"
            )
        found.add(name)
    if not found:
        raise InvalidJob("expected at least one notifier name; write notify: false for none")
    return tuple(sorted(found))


def _statuses(statuses: Iterable[object]) -> frozenset[RunStatus]:
    found: set[RunStatus] = set()
    for status in statuses:
        value = status.value if isinstance(status, RunStatus) else status
        if not isinstance(value, str) or value not in _STATUSES:
            raise InvalidJob(f"expected run statuses among {', '.join(_STATUSES)}, got {status!r}")
        found.add(RunStatus(value))
    if not found:
        raise InvalidJob("expected at least one status in 'when'")
    return frozenset(found)
