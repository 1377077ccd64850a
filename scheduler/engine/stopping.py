"""Stopping the executors: waiting out the shutdown grace, and what was withdrawn.

The dispatcher's :meth:`~scheduler.engine.dispatch.Dispatcher.shutdown` uses
these: :func:`within_grace` waits for the executors on a thread of its own, so
that a second stop signal can cut the wait short; :func:`withdrawn_unstarted`
tells a run an executor withdrew before it started, and
:func:`release_unstarted` gives such runs back to the store (rather than
recording them ``cancelled``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence

from ..errors import StoreUnavailable
from ..executors.base import Executor
from ..model.runs import ClaimedRun, Outcome, RunStatus
from ..stores.base import RunQueue

__all__ = ["each_executor", "release_unstarted", "withdrawn_unstarted", "within_grace"]

logger = logging.getLogger(__name__)

#: How often, in seconds, a shutdown waiting for running work checks whether
#: it was told to stop now.
_CUT_SHORT_POLL = 0.05


def within_grace(
    executors: Mapping[str, Executor], grace: float, cut_short: threading.Event | None
) -> dict[str, list[int]] | None:
    """Each executor's runs still going after ``grace``; None if cut short first.

    The executors are waited for on a thread of its own, so that this
    thread (the main one, whose signal handlers set ``cut_short``) can
    stop waiting the moment it is told to.
    """
    if cut_short is None:
        return {
            name: ex.shutdown(wait=True, timeout=grace) for name, ex in each_executor(executors)
        }
    late: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    done = threading.Event()

    def wait_out() -> None:
        try:
            for name, executor in each_executor(executors):
                late[name] = executor.shutdown(wait=True, timeout=grace)
        except BaseException as error:  # raised again below, on the caller's thread
            errors.append(error)
        finally:
            done.set()

    if cut_short.is_set():
        return None
    threading.Thread(target=wait_out, name="tickwork-shutdown", daemon=True).start()
    while not done.wait(_CUT_SHORT_POLL):
        if cut_short.is_set():
            return None
    if errors:
        raise errors[0]
    return late


def each_executor(executors: Mapping[str, Executor]) -> list[tuple[str, Executor]]:
    """Each executor once, under the first name it has (several names may
    share one, as with ``run_scheduler --executor``)."""
    seen: set[int] = set()
    found = []
    for name, executor in executors.items():
        if id(executor) not in seen:
            seen.add(id(executor))
            found.append((name, executor))
    return found


def withdrawn_unstarted(claimed: ClaimedRun | None, outcome: Outcome) -> bool:
    """Whether an executor's report is of a run it withdrew before it started."""
    return (
        claimed is not None
        and outcome.status is RunStatus.CANCELLED
        and claimed.run.started_at is None
    )


def release_unstarted(store: RunQueue, run_ids: Sequence[int], replica_id: str) -> set[int]:
    """Give runs withdrawn unstarted back to ``store`` (as claimed by
    ``replica_id``) for another replica to claim; the ones it released (none
    while it is unavailable)."""
    if not run_ids:
        return set()
    try:
        released = set(store.release_runs(run_ids, replica_id=replica_id))
    except StoreUnavailable:
        return set()
    if released:
        logger.info(
            "gave %d claimed runs that had not started back for another replica",
            len(released),
            extra={"event": "runs_released", "count": len(released)},
        )
    return released
