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
from multiprocessing import Pool

from .canaries import CANARIES
from .plan import FaultKind, draw_scenario
from .runner import MODES, describe, run_scenario, run_seed
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


def _play(job: tuple[int, str, bool, dict[str, float]]) -> Outcome:
    seed, mode, skewed, length = job
    return run_seed(seed, mode, skewed_editor=skewed, **length)


def _outcomes(
    seeds: range, mode: str, jobs: int, skewed: bool, length: dict[str, float]
) -> Iterator[Outcome]:
    work = [(seed, mode, skewed, length) for seed in seeds]
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
    skewed: bool = False,
    length: dict[str, float] | None = None,
) -> list[Outcome]:
    """Play ``seeds`` on ``mode``; print the progress, the failures and the summary."""
    outcomes: list[Outcome] = []
    failing: list[int] = []
    step = max(1, len(seeds) // 200)
    length = length or {}
    for outcome in _outcomes(seeds, mode, jobs, skewed, length):
        outcomes.append(outcome)
        if outcome.violations:
            failing.append(outcome.seed)
        if len(outcomes) % step == 0 or len(outcomes) == len(seeds):
            _progress(len(outcomes), len(seeds), len(failing), mode)
    if failing:
        _say(f"{mode}: failing seeds: {' '.join(map(str, failing[:50]))}")
        _explain(failing[0], mode, shrinking=shrinking, skewed=skewed, length=length)
    _say(f"{mode}: {summary(len(seeds), outcomes)}")
    return outcomes


def _explain(
    seed: int, mode: str, *, shrinking: bool, skewed: bool, length: dict[str, float]
) -> None:
    scenario = draw_scenario(seed, skewed_editor=skewed, **length)
    if shrinking:
        dropped, outcome = shrink(scenario, mode)
        scenario = scenario.without(dropped)
        drop = f" --drop {','.join(map(str, sorted(dropped)))}" if dropped else ""
    else:
        outcome, drop = run_scenario(scenario, mode), ""
    _say(describe(scenario, outcome))
    flag = " --skewed-editor" if skewed else ""
    flag += "".join(f" --{key} {value:g}" for key, value in length.items())
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
        "--active", type=float, help="seconds of faults and edits per seed (default 5400)"
    )
    parser.add_argument("--quiet", type=float, help="then quiet seconds (default 1800)")
    parser.add_argument("--no-shrink", action="store_true", help="print failures unshrunk")
    parser.add_argument(
        "--skewed-editor",
        action="store_true",
        help="the operator's clock may be behind the replicas' (shows a known bug)",
    )
    args = parser.parse_args(argv)
    length = {key: getattr(args, key) for key in ("active", "quiet") if getattr(args, key)}
    modes = ["memory", "sqlite"] if args.store == "both" else [args.store]
    if args.seed is not None:
        dropped = {int(i) for i in args.drop.split(",") if i.strip()}
        failed = False
        for mode in modes:
            scenario = draw_scenario(args.seed, skewed_editor=args.skewed_editor, **length)
            scenario = scenario.without(dropped)
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
            skewed=args.skewed_editor,
            length=length,
        )
        for mode in modes
    ]
    return 1 if any(o.violations for outcomes in results for o in outcomes) else 0
