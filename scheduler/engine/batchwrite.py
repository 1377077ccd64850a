"""How the dispatcher writes a group commit: one ``record_transitions``, then
the logs and hooks of each run it moved.

When the store refuses the batch for one report's sake (an unknown run, a
retry whose attempt exists), the reports are written one by one, as without
group commit, so each answer and each error goes to its own run.  When the
store is unavailable, the starts are refused (their runs are recorded
``lost``, as without group commit) and the ends are kept for the engine to
record once the store is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import StoreUnavailable
from ..model.runs import ClaimedRun, Outcome
from ..monitoring.hooks import RunHooks
from ..stores.base import RunEnd, RunStart, Store
from .groupcommit import StartResult
from .recording import announce_end, announce_recorded, record_outcome, retry_for

__all__ = ["EndReport", "TransitionWriter"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EndReport:
    """An executor's report of a run's end; ``claimed`` is ``None`` for a run
    this dispatcher did not hand over (or already forgot)."""

    run_id: int
    claimed: ClaimedRun | None
    outcome: Outcome
    retry: bool


class TransitionWriter:
    """Writes gathered starts and ends to ``store``; ends it could not write
    because the store is unavailable go to ``keep``."""

    def __init__(
        self, store: Store, *, hooks: RunHooks, keep: Callable[[Sequence[EndReport]], None]
    ) -> None:
        self.store = store
        self.hooks = hooks
        self.keep = keep

    def __call__(
        self, starts: Sequence[RunStart], ends: Sequence[EndReport]
    ) -> Sequence[StartResult]:
        reports = [RunEnd(run_id=end.run_id, outcome=end.outcome, retry=end.retry) for end in ends]
        try:
            done = self.store.record_transitions(starts, reports, retry=retry_for)
        except StoreUnavailable as error:
            self._keep(ends)
            return [error] * len(starts)
        except Exception:  # one report refused: learn which, and record the others
            logger.debug("group commit refused; recording its reports one by one", exc_info=True)
            return self._one_by_one(starts, ends)
        self._announce(ends, done.ended)
        return _answers(starts, done.started)

    def record(self, end: EndReport) -> None:
        """Record one end, as without group commit (raises StoreUnavailable)."""
        if end.claimed is not None:
            record_outcome(self.store, end.claimed, end.outcome, hooks=self.hooks)
        elif self.store.mark_finished(end.run_id, end.outcome):
            self._announce_unknown(end.run_id)

    def _announce(self, ends: Sequence[EndReport], ended: frozenset[int]) -> None:
        announced: set[int] = set()
        for end in ends:
            if end.run_id not in ended or end.run_id in announced:
                continue
            announced.add(end.run_id)
            try:
                if end.claimed is not None:
                    announce_recorded(end.claimed, end.outcome, hooks=self.hooks)
                else:
                    self._announce_unknown(end.run_id)
            except Exception:  # a hook never breaks the engine; its errors are logged there
                logger.exception("could not announce the end of run %d", end.run_id)

    def _announce_unknown(self, run_id: int) -> None:
        if self.hooks:  # not handed over by this dispatcher: read what it was
            run = self.store.get_run(run_id)
            announce_end(run, self.store.get_job(run.job_name).spec, hooks=self.hooks)

    def _one_by_one(
        self, starts: Sequence[RunStart], ends: Sequence[EndReport]
    ) -> list[StartResult]:
        answers: list[StartResult] = []
        for start in starts:
            try:
                started = self.store.mark_running(start.run_id, worker=start.worker, now=start.at)
                answers.append(started)
            except Exception as error:
                answers.append(error)
        for index, end in enumerate(ends):
            try:
                self.record(end)
            except StoreUnavailable:
                self._keep(ends[index:])
                break
            except Exception:
                logger.exception("could not record the end of run %d", end.run_id)
        return answers

    def _keep(self, ends: Sequence[EndReport]) -> None:
        if ends:
            logger.warning(
                "could not record the end of %d runs: store unavailable; will retry",
                len(ends),
                extra={"event": "outcome_deferred", "runs": len(ends)},
            )
            self.keep(ends)


def _answers(starts: Sequence[RunStart], started: frozenset[int]) -> list[StartResult]:
    """Whether each start moved its run: of two starts of one run, the first."""
    seen: set[int] = set()
    answers: list[StartResult] = []
    for start in starts:
        answers.append(start.run_id in started and start.run_id not in seen)
        seen.add(start.run_id)
    return answers
