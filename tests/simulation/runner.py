"""Running one seed on a store mode, and telling what a failing one did."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from scheduler.stores.base import Store
from scheduler.testing import MemoryStore

from .plan import ACTIVE, QUIET, Scenario, draw_scenario
from .world import Outcome, Simulation

__all__ = ["MODES", "describe", "run_scenario", "run_seed"]


@contextmanager
def _memory() -> Iterator[Store]:
    yield MemoryStore()


@contextmanager
def _sqlite() -> Iterator[Store]:
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

    # On a RAM disk where there is one: the simulation is about order, not fsync.
    shm = Path("/dev/shm")  # noqa: S108 (a private TemporaryDirectory inside it)
    where = str(shm) if shm.is_dir() else None
    with tempfile.TemporaryDirectory(prefix="tickwork-sim-", dir=where) as folder:
        store = SQLAlchemyStore(f"sqlite:///{Path(folder) / 'sim.sqlite3'}")
        store.create_schema()
        try:
            yield store
        finally:
            store.dispose()


#: The store modes, by name: each gives a fresh, empty store for one seed.
MODES: dict[str, Callable[[], AbstractContextManager[Store]]] = {
    "memory": _memory,
    "sqlite": _sqlite,
}


def run_scenario(scenario: Scenario, mode: str = "memory") -> Outcome:
    """Play ``scenario`` on a fresh store of ``mode``; its outcome."""
    logging.disable(logging.CRITICAL)  # thousands of seeds would log millions of lines
    try:
        with MODES[mode]() as store:
            return Simulation(scenario, store).run()
    finally:
        logging.disable(logging.NOTSET)


def run_seed(
    seed: int,
    mode: str = "memory",
    *,
    skewed_editor: bool = True,
    active: float = ACTIVE,
    quiet: float = QUIET,
) -> Outcome:
    """Play seed ``seed`` on a fresh store of ``mode``, ``active`` seconds of
    faults and edits then ``quiet`` ones."""
    scenario = draw_scenario(seed, skewed_editor=skewed_editor, active=active, quiet=quiet)
    return run_scenario(scenario, mode)


def describe(scenario: Scenario, outcome: Outcome, *, lines: int = 40) -> str:
    """The seed, its fault plan, its violations and the end of the trace about them."""
    out = [f"seed {scenario.seed}: {len(outcome.violations)} violations"]
    out += [f"  {violation}" for violation in outcome.violations[:10]]
    out.append(
        f"scenario: start {scenario.start.isoformat()}, {scenario.replicas} replicas, "
        f"drift {', '.join(f'{d:+.2f}s' for d in scenario.drift)}, "
        f"{len(scenario.jobs)} jobs, {len(scenario.ops)} edits"
    )
    out.append(f"fault plan ({len(scenario.faults)}):")
    out += [f"  {fault}" for fault in scenario.faults]
    jobs = outcome.jobs
    relevant = [
        (t, line)
        for t, line, job in outcome.trace
        if not job or job in jobs or line.startswith("FAULT") or not jobs
    ]
    out.append(f"trace (last {min(lines, len(relevant))} events):")
    out += [f"  t+{t:8.1f}s {line}" for t, line in relevant[-lines:]]
    return "\n".join(out)
