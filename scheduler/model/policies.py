"""What to do when time does not go to plan: catch-up, overlap, jitter, retries.

The policies are string-valued enums, so they read the same in YAML, in the
database and in code (``CatchupPolicy("once") is CatchupPolicy.ONCE``).  Each
member carries its own docstring in ``__doc__``.

The functions here are pure: they take the instant they reason about as an
argument and never read a clock, so every replica computes the same answer and
tests need no sleeping.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..clock import ensure_aware_utc
from .enums import DocumentedEnum

__all__ = [
    "CatchupPlan",
    "CatchupPolicy",
    "JobSource",
    "OverlapPolicy",
    "jitter_offset",
    "plan_catchup",
    "retry_delay",
]

_MICROSECOND = timedelta(microseconds=1)


class CatchupPolicy(DocumentedEnum):
    """Which of the slots missed beyond the grace period still fire.

    Missed slots come from downtime or overload.  Slots that do not fire are
    recorded as ``missed`` so the gap shows in the run history.
    """

    ONCE = "once", "Fire once for all missed slots (the latest); the default."
    ALL = "all", "Fire each missed slot, up to the job's ``max_catchup`` most recent."
    SKIP = "skip", "Fire none of the missed slots; wait for the next regular one."


class OverlapPolicy(DocumentedEnum):
    """What to do when a slot is due while the job's previous run is still running."""

    SKIP = "skip", "Do not start the new run; record it as ``skipped``. The default."
    ALLOW = "allow", "Start the new run alongside the running one."
    QUEUE = "queue", "Run once right after the running one finishes."


class JobSource(DocumentedEnum):
    """Where a job definition comes from; it decides who may change it."""

    YAML = "yaml", "Declared in a schedules file; read-only in admin, synced from the file."
    ADMIN = "admin", "Created in Django admin; never overwritten by a schedules file."
    CODE = "code", "Declared in application code, for example with the ``@job`` decorator."


@dataclass(frozen=True, slots=True, kw_only=True)
class CatchupPlan:
    """The decision for a list of missed slots: which fire, which are recorded as missed.

    Both tuples are in ascending order and together hold every slot given to
    :func:`plan_catchup`, each exactly once.
    """

    fire: tuple[datetime, ...]
    missed: tuple[datetime, ...]


def retry_delay(attempt: int, base: timedelta, cap: timedelta) -> timedelta:
    """How long to wait before retry number ``attempt`` (1 is the first retry).

    The delay doubles with each attempt, ``base * 2 ** (attempt - 1)``, and
    never exceeds ``cap``.  Raises :class:`ValueError` for an attempt below 1 or
    a negative ``base`` or ``cap``.
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError(f"attempt must be an integer of at least 1, got {attempt!r}")
    if base < timedelta(0) or cap < timedelta(0):
        raise ValueError(f"base and cap must not be negative, got {base!r} and {cap!r}")
    # Whole microseconds in Python ints cannot overflow, unlike timedelta
    # arithmetic at attempt 100.
    grown = (base // _MICROSECOND) << (attempt - 1)
    return timedelta(microseconds=min(grown, cap // _MICROSECOND))


def jitter_offset(job_name: str, slot: datetime, max_jitter: timedelta) -> timedelta:
    """A delay in ``[0, max_jitter]`` for firing ``job_name``'s ``slot``, in whole microseconds.

    The offset is derived from a SHA-256 digest of the job name and the slot
    (as an ISO-8601 string in UTC), so every process and replica computes the
    same value, whatever ``PYTHONHASHSEED`` is; successive slots of one job
    spread uniformly.  Raises :class:`ValueError` for a naive ``slot`` or a
    negative ``max_jitter``.
    """
    if max_jitter < timedelta(0):
        raise ValueError(f"max_jitter must not be negative, got {max_jitter!r}")
    instant = ensure_aware_utc(slot, "slot")
    span = max_jitter // _MICROSECOND
    if span == 0:
        return timedelta(0)
    # JSON keeps the two parts apart whatever characters the name holds.
    material = json.dumps([job_name, instant.isoformat()], ensure_ascii=True)
    digest = hashlib.sha256(material.encode("ascii")).digest()
    # 256 bits against a span of at most ~2**60 microseconds: the modulo bias
    # is far below anything measurable.
    return timedelta(microseconds=int.from_bytes(digest, "big") % (span + 1))


def plan_catchup(
    missed: Sequence[datetime],
    *,
    now: datetime,
    policy: CatchupPolicy,
    window: timedelta | None,
    max_catchup: int,
) -> CatchupPlan:
    """Decide which ``missed`` slots fire now and which are recorded as missed.

    ``missed`` holds the slots that are late beyond the grace period.  A slot
    older than ``now - window`` is always recorded as missed.  Of the others
    (the *eligible* slots), :attr:`CatchupPolicy.ONCE` fires the latest,
    :attr:`CatchupPolicy.ALL` fires the ``max_catchup`` most recent and
    :attr:`CatchupPolicy.SKIP` fires none; every slot that does not fire is
    recorded as missed.  Raises :class:`ValueError` for a naive instant or a
    ``max_catchup`` below 1.
    """
    if isinstance(max_catchup, bool) or not isinstance(max_catchup, int) or max_catchup < 1:
        raise ValueError(f"max_catchup must be an integer of at least 1, got {max_catchup!r}")
    current = ensure_aware_utc(now, "now")
    slots = sorted(missed, key=lambda slot: ensure_aware_utc(slot, "missed slot"))
    oldest = None if window is None else current - window
    stale = [slot for slot in slots if oldest is not None and slot < oldest]
    eligible = slots[len(stale) :]
    keep = {CatchupPolicy.ONCE: 1, CatchupPolicy.ALL: max_catchup, CatchupPolicy.SKIP: 0}
    fire_count = min(keep[CatchupPolicy(policy)], len(eligible))
    cut = len(eligible) - fire_count
    return CatchupPlan(fire=tuple(eligible[cut:]), missed=tuple(stale + eligible[:cut]))
