"""The command line: many seeds with a progress bar and a summary, or one seed replayed.

``python -m tests.simulation --seeds 200`` plays seeds 0 to 199 on the memory
store; ``--store sqlite`` (or ``both``) on SQLite files; ``--seed N`` replays
one seed and prints its trace; ``--drop 1,4`` replays it without those faults
(what the shrinker prints).  Exits 1 when any seed violates an invariant.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing import Pool

from .canaries import CANARIES
from .plan import ACTIVE, QUIET, FaultKind, Scenario, draw_scenario
from .runner import MODES, describe, run_scenario
from .shrink import shrink
from .world import Outcome

__all__ = ["main", "summary"]


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def summary(seeds: int, outcomes: Sequence[Outcome]) -> str:
    """``N seeds, V violations, F faults injected`` and the count of each kind."""
    faults: Counter[str] = Counter()
    for outcome in outcomes:
        faults.update(outcome.faults)
    violations = sum(len(outcome.violations) for outcome in outcomes)
    kinds = ", ".join(f"{kind.value} {faults[kind.value]}" for kind in FaultKind)
    return (
        f"{seeds} seeds, {violations} violations, {sum(faults.values())} faults injected ({kinds})"
    )


@dataclass(frozen=True, slots=True)
class Options:
    """How each seed is played: the operator's clock, the scenario's length."""

    skewed: bool = True
    active: float = ACTIVE
    quiet: float = QUIET

    def scenario(self, seed: int) -> Scenario:
        return draw_scenario(seed, skewed_editor=self.skewed, active=self.active, quiet=self.quiet)

    def flags(self) -> str:
        """The command-line options that give these."""
        flags = "" if self.skewed else " --level-editor"
        flags += f" --active {self.active:g}" if self.active != ACTIVE else ""
        return flags + (f" --quiet {self.quiet:g}" if self.quiet != QUIET else "")


def _play(job: tuple[int, str, Options]) -> Outcome:
    seed, mode, options = job
    return run_scenario(options.scenario(seed), mode)


def _outcomes(seeds: range, mode: str, jobs: int, options: Options) -> Iterator[Outcome]:
    work = [(seed, mode, options) for seed in seeds]
    if jobs <= 1:
        yield from map(_play, work)
        return
    with Pool(jobs) as pool:
        yield from pool.imap(_play, work, chunksize=4)


def _progress(done: int, total: int, bad: int, mode: str) -> None:
    width = 30
    filled = width * done // max(total, 1)
    bar = "#" * filled + "." * (width - filled)
    sys.stderr.write(f"\r{mode:>6} [{bar}] {done}/{total} seeds, {bad} failing")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run_many(
    seeds: range,
    mode: str,
    *,
    jobs: int,
    shrinking: bool,
    options: Options | None = None,
) -> list[Outcome]:
    """Play ``seeds`` on ``mode``; print the progress, the failures and the summary."""
    outcomes: list[Outcome] = []
    failing: list[int] = []
    step = max(1, len(seeds) // 200)
    options = options or Options()
    for outcome in _outcomes(seeds, mode, jobs, options):
        outcomes.append(outcome)
        if outcome.violations:
            failing.append(outcome.seed)
        if len(outcomes) % step == 0 or len(outcomes) == len(seeds):
            _progress(len(outcomes), len(seeds), len(failing), mode)
    if failing:
        _say(f"{mode}: failing seeds: {' '.join(map(str, failing[:50]))}")
        _explain(failing[0], mode, shrinking=shrinking, options=options)
    _say(f"{mode}: {summary(len(seeds), outcomes)}")
    return outcomes


def _explain(seed: int, mode: str, *, shrinking: bool, options: Options) -> None:
    scenario = options.scenario(seed)
    if shrinking:
        dropped, outcome = shrink(scenario, mode)
        scenario = scenario.without(dropped)
        drop = f" --drop {','.join(map(str, sorted(dropped)))}" if dropped else ""
    else:
        outcome, drop = run_scenario(scenario, mode), ""
    _say(describe(scenario, outcome))
    flag = options.flags()
    _say(f"replay: python -m tests.simulation --store {mode} --seed {seed}{drop}{flag}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.simulation", description=__doc__)
    parser.add_argument("--seeds", type=int, default=200, help="how many seeds (default 200)")
    parser.add_argument("--first", type=int, default=0, help="the first seed (default 0)")
    parser.add_argument("--seed", type=int, help="replay this one seed, with its trace")
    parser.add_argument("--drop", default="", help="with --seed: fault indexes to leave out")
    parser.add_argument(
        "--store",
        choices=[*MODES, *CANARIES, "both"],
        default="memory",
        help="memory, sqlite, both, or a deliberately broken store (a canary)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    parser.add_argument(
        "--active", type=float, default=ACTIVE, help="seconds of faults and edits per seed"
    )
    parser.add_argument("--quiet", type=float, default=QUIET, help="then quiet seconds")
    parser.add_argument("--no-shrink", action="store_true", help="print failures unshrunk")
    parser.add_argument(
        "--level-editor",
        action="store_true",
        help="the operator's clock as far ahead as the fastest replica's, never behind "
        "(as seeds were played before edits from behind were handled)",
    )
    args = parser.parse_args(argv)
    options = Options(not args.level_editor, args.active, args.quiet)
    modes = ["memory", "sqlite"] if args.store == "both" else [args.store]
    if args.seed is not None:
        dropped = {int(i) for i in args.drop.split(",") if i.strip()}
        failed = False
        for mode in modes:
            scenario = options.scenario(args.seed).without(dropped)
            outcome = run_scenario(scenario, mode)
            _say(describe(scenario, outcome))
            _say(f"{mode}: {summary(1, [outcome])}")
            failed = failed or bool(outcome.violations)
        return 1 if failed else 0
    seeds = range(args.first, args.first + args.seeds)
    results = [
        run_many(
            seeds,
            mode,
            jobs=args.jobs,
            shrinking=not args.no_shrink,
            options=options,
        )
        for mode in modes
    ]
    return 1 if any(o.violations for outcomes in results for o in outcomes) else 0
