"""Shrinking a failing scenario: drop faults while a violation stays."""

from __future__ import annotations

from .plan import Scenario
from .runner import run_scenario
from .world import Outcome

__all__ = ["shrink"]


def shrink(scenario: Scenario, mode: str, *, budget: int = 60) -> tuple[set[int], Outcome]:
    """The fault indexes of ``scenario`` that can be dropped while it still
    fails on ``mode``, and the outcome without them.  Greedy: halves first,
    then one fault at a time; at most ``budget`` replays."""
    dropped: set[int] = set()
    outcome = run_scenario(scenario, mode)
    if not outcome.violations:
        return dropped, outcome
    indexes = list(range(len(scenario.faults)))
    chunk = max(1, len(indexes) // 2)
    while chunk >= 1 and budget > 0:
        for start in range(0, len(indexes), chunk):
            trial = dropped | set(indexes[start : start + chunk])
            if trial == dropped or budget <= 0:
                continue
            budget -= 1
            candidate = run_scenario(scenario.without(trial), mode)
            if candidate.violations:
                dropped, outcome = trial, candidate
        chunk //= 2
    return dropped, outcome
