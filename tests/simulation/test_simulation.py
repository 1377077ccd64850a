"""The simulation holds on every seed it plays, replays exactly, and can fail.

The default run plays short scenarios (30 simulated minutes of faults and
edits, then 25 quiet ones): 300 seeds on the memory store and 12 on SQLite;
with ``TICKWORK_SIM_SQLITE_SEEDS=N`` (CI's Python 3.11 leg: 100), N brief
ones on SQLite too.
The ``slow`` run plays full ones (90 + 30 minutes).  ``make simulate`` plays
as many as you ask for.
"""

from __future__ import annotations

import os
import re

import pytest

from .canaries import CANARIES
from .cli import main, summary
from .plan import FaultKind, draw_scenario
from .runner import describe, run_seed
from .shrink import shrink
from .world import Outcome

SHORT_ACTIVE, SHORT_QUIET = 1800.0, 1500.0

#: Seeds that found real bugs, kept so that they stay fixed, played as they
#: were found: with the operator's clock level with the fastest replica's.
REGRESSIONS = {
    0: "claim_pending queued two runs of one overlap-queue job at once",
    195: "a crash after a failure was recorded, before its retry was, lost the retry",
}
#: Seeds that found bugs of an operator whose clock is behind a replica's (the default).
SKEWED_REGRESSIONS = {
    1079: "an edit from a clock behind set a job back to a claimed slot: DuplicateRun for ever",
    1083: "the same, another job and fault plan",
    1389: "the same",
    1531: "the same",
}


def _failures(outcomes: list[Outcome], mode: str) -> str:
    bad = [o for o in outcomes if o.violations]
    if not bad:
        return ""
    first = bad[0]
    return f"{len(bad)} failing seeds on {mode}; the first:\n" + describe(
        draw_scenario(first.seed, active=SHORT_ACTIVE, quiet=SHORT_QUIET), first
    )


# In chunks, so that test processes share them: 300 short seeds on memory, 8 on SQLite.
@pytest.mark.one_leg
@pytest.mark.parametrize(
    ("mode", "first", "seeds"),
    [("memory", 0, 100), ("memory", 100, 100), ("memory", 200, 100), ("sqlite", 0, 8)],
)
def test_short_scenarios_hold(mode: str, first: int, seeds: int) -> None:
    outcomes = [
        run_seed(seed, mode, active=SHORT_ACTIVE, quiet=SHORT_QUIET)
        for seed in range(first, first + seeds)
    ]
    assert not _failures(outcomes, mode)
    assert sum(sum(o.faults.values()) for o in outcomes) > seeds  # faults did strike


#: Brief scenarios (10 simulated minutes of faults and edits, then 10 quiet
#: ones) on SQLite, where a seed costs about 25 memory seeds: as many as
#: ``TICKWORK_SIM_SQLITE_SEEDS`` says (the Python 3.11 leg of ``make test``
#: plays 100; none by default, to keep the quick loop quick).
BRIEF_ACTIVE, BRIEF_QUIET = 600.0, 600.0
BRIEF_SQLITE = int(os.environ.get("TICKWORK_SIM_SQLITE_SEEDS", "0"))
_BRIEF_CHUNK = 25


@pytest.mark.one_leg
@pytest.mark.skipif(not BRIEF_SQLITE, reason="TICKWORK_SIM_SQLITE_SEEDS is not set")
@pytest.mark.parametrize(
    "first", range(20_000, 20_000 + max(BRIEF_SQLITE, _BRIEF_CHUNK), _BRIEF_CHUNK)
)
def test_brief_sqlite_scenarios_hold(first: int) -> None:
    last = min(first + _BRIEF_CHUNK, 20_000 + BRIEF_SQLITE)
    outcomes = [
        run_seed(seed, "sqlite", active=BRIEF_ACTIVE, quiet=BRIEF_QUIET)
        for seed in range(first, last)
    ]
    bad = [o for o in outcomes if o.violations]
    assert not bad, describe(
        draw_scenario(bad[0].seed, active=BRIEF_ACTIVE, quiet=BRIEF_QUIET), bad[0]
    )
    assert sum(sum(o.faults.values()) for o in outcomes) > len(outcomes)


@pytest.mark.slow
@pytest.mark.one_leg
# Full-length scenarios, in CI's time: 200 on memory and 4 on SQLite, under half
# a minute a chunk here.  `make simulate SEEDS=10000` is the long run
# (docs/concepts/architecture.md).
@pytest.mark.parametrize(
    ("mode", "first", "seeds"),
    [("memory", 10_000, 100), ("memory", 10_100, 100), ("sqlite", 10_000, 4)],
)
def test_full_scenarios_hold(mode: str, first: int, seeds: int) -> None:
    outcomes = [run_seed(seed, mode) for seed in range(first, first + seeds)]
    assert not _failures(outcomes, mode)


@pytest.mark.parametrize("mode", ["memory", "sqlite"])
@pytest.mark.parametrize("seed", sorted(REGRESSIONS))
def test_regression_seeds_hold(seed: int, mode: str) -> None:
    outcome = run_seed(seed, mode, skewed_editor=False)
    assert outcome.violations == [], REGRESSIONS[seed]


def test_a_restart_during_an_outage_regression_holds() -> None:
    # A replica restarted during an outage hid its previous life's runs (fixed).
    for seed in (1173, 1177):
        outcome = run_seed(seed, skewed_editor=False, active=SHORT_ACTIVE, quiet=SHORT_QUIET)
        assert outcome.violations == []


@pytest.mark.parametrize("mode", ["memory", "sqlite"])
def test_an_edit_from_a_clock_behind_does_not_reopen_a_claimed_slot(mode: str) -> None:
    # Seed 1079: an edit made with the operator's clock behind a replica's set
    # a job back to the slot that replica had just claimed; every later claim
    # raised DuplicateRun out of Engine.tick, and the replicas crash-looped.
    # The claim now skips a slot that has a run and moves the job on.
    outcome = run_seed(1079, mode)
    assert outcome.violations == [], SKEWED_REGRESSIONS[1079]
    assert outcome.taken_slots >= 1  # the seed still sets a job back to a claimed slot


@pytest.mark.parametrize("seed", sorted(set(SKEWED_REGRESSIONS) - {1079}))
def test_the_other_clock_behind_seeds_hold(seed: int) -> None:
    outcome = run_seed(seed)
    assert outcome.violations == [], SKEWED_REGRESSIONS[seed]


@pytest.mark.parametrize("canary", sorted(CANARIES))
def test_a_broken_store_is_caught_within_five_seeds(canary: str) -> None:
    failing = [seed for seed in range(5) if run_seed(seed, canary).violations]
    assert failing, f"{canary}: no violation in seeds 0-4"


def test_a_seed_replays_exactly() -> None:
    first, again = run_seed(7), run_seed(7)
    assert first.trace == again.trace
    assert (first.faults, first.violations, first.events) == (
        again.faults,
        again.violations,
        again.events,
    )
    assert run_seed(8).trace != first.trace


def test_the_shrinker_drops_faults_the_violation_does_not_need() -> None:
    scenario = draw_scenario(3)
    dropped, outcome = shrink(scenario, "canary-no-advance")
    assert outcome.violations
    assert dropped == set(range(len(scenario.faults)))  # the broken claim needs no fault


def test_the_summary_counts_every_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seeds", "3", "--first", "40"]) == 0
    out = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"memory: 3 seeds, 0 violations, \d+ faults injected \(.*\)", out)
    assert all(f"{kind.value} " in out for kind in FaultKind)
    assert summary(0, []).startswith("0 seeds, 0 violations, 0 faults injected")


def test_replaying_a_failing_seed_prints_its_trace(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seed", "1", "--store", "canary-no-advance"]) == 1
    out = capsys.readouterr().out
    assert "seed 1: " in out and "fault plan (" in out and "trace (last" in out
    # The claims skip the slots they took before, so the job is not advanced
    # and its later slots fire outside the periods the operator saw.
    assert "outside its active periods" in out
