"""Chains: a job that runs once per qualifying run of its upstream job.

A chained job names its upstream in ``after`` and says which endings count
in ``when``.  Each run of the upstream job that ends in one of the statuses of
``when`` gives the chained job one run, with the trigger ``chain`` and a link
to that upstream run; the upstream run's id is the slot key of the chained
run, so two replicas that both notice the same ending create one run.

A job may have no schedule of its own: then it runs only after its upstream,
and its schedule is :data:`CHAIN_ONLY`, a one-off instant in 1970 that is
never due again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..schedules.kinds import Once
from .enums import DocumentedEnum
from .statuses import RunStatus

__all__ = ["CHAIN_ONLY", "MAX_UPSTREAMS", "ChainWhen", "is_chain_only"]

#: The schedule of a job that runs only after its upstream: never due.
CHAIN_ONLY = Once(datetime(1970, 1, 1, tzinfo=UTC))

#: How many upstream jobs a chained job may name, for now.
MAX_UPSTREAMS = 1

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
