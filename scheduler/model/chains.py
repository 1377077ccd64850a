"""Chains: a job that runs once per qualifying run of its upstream job, or of all of them.

A chained job names its upstream in ``after`` and says which endings count
in ``when``.  Each run of the upstream job that ends in one of the statuses of
``when`` gives the chained job one run, with the trigger ``chain`` and a link
to that upstream run; the upstream run's id is the slot key of the chained
run, so two replicas that both notice the same ending create one run.

A job after two or more upstreams is a *join*: it runs once per slot
(``scheduled_for``) for which every one of them has a qualifying ended run.
Its key is the lowest-id qualifying run of the first upstream for that slot,
the same whichever replica completes the join.

A job may have no schedule of its own: then it runs only after its upstream,
and its schedule is :data:`CHAIN_ONLY`, a one-off instant in 1970 that is
never due again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..schedules.kinds import Once
from .enums import DocumentedEnum
from .statuses import RunStatus

__all__ = [
    "CHAIN_ONLY",
    "MAX_UPSTREAMS",
    "ChainWhen",
    "after_text",
    "is_chain_only",
    "is_join",
    "listed",
]

#: The schedule of a job that runs only after its upstream: never due.
CHAIN_ONLY = Once(datetime(1970, 1, 1, tzinfo=UTC))

#: How many upstream jobs a chained job may name (a join of that many).
MAX_UPSTREAMS = 20

_FAILED = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.LOST})


class ChainWhen(DocumentedEnum):
    """Which endings of an upstream run start a run of the chained job.

    Runs that never started (``skipped``, ``missed``, ``cancelled``) never
    count: the upstream did not run.
    """

    SUCCEEDED = "succeeded", "The upstream run succeeded. The default."
    FAILED = "failed", "The upstream run failed, timed out or was lost."
    FINISHED = "finished", "The upstream run ended in any of those: succeeded or failed."

    @property
    def statuses(self) -> frozenset[RunStatus]:
        """The upstream statuses that count."""
        if self is ChainWhen.SUCCEEDED:
            return frozenset({RunStatus.SUCCEEDED})
        if self is ChainWhen.FAILED:
            return _FAILED
        return _FAILED | {RunStatus.SUCCEEDED}


def is_chain_only(schedule: object) -> bool:
    """Whether ``schedule`` is :data:`CHAIN_ONLY`: the job has no schedule of its own."""
    return schedule == CHAIN_ONLY


def is_join(after: tuple[str, ...]) -> bool:
    """Whether a job after the upstreams ``after`` is a join: two or more of them."""
    return len(after) > 1


def listed(names: tuple[str, ...]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def after_text(after: tuple[str, ...], when: ChainWhen) -> str:
    """A chain in words: ``after extract succeeded``, or for a join ``after a and b
    both succeeded for one slot``."""
    if not is_join(after):
        return f"after {listed(after)} {when.value}"
    each = "both" if len(after) == 2 else "all"
    return f"after {listed(after)} {each} {when.value} for one slot"
