"""What monitoring costs the thundering herd: the herd with metrics and a notifier on, and off.

The herd of workload 1 (N jobs on ``* * * * *``, all due at one instant,
handed to an executor that takes each run as a broker would), measured in
one run alternately without monitoring and with it: the replica's
:class:`~scheduler.monitoring.endpoint.Endpoint` (metrics, the store read
every few seconds, ``/metrics`` scraped every 5 seconds, more often than
Prometheus's usual 15 s to 1 min), the built-in webhook notifier as a site
would configure it (it decides on every run, and posts the problems; here
every run succeeds) and an in-memory hook that checks every run was heard.  So that
the hooks have something to hear, the executor
reports every run it takes as ended to the engine's hooks, in both variants,
as the worker that ran it would; with monitoring off no hook listens.

Reported: each variant's median time from the due instant to the last
hand-over, and ``ratio`` (on / off).  The target is a ratio of at most 1.10.

    python -m benchmarks.monitored --jobs 10000 --systems tickwork-postgresql --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import urllib.request
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from scheduler.executors.base import RunReporter
from scheduler.model.runs import ClaimedRun, RunStatus
from scheduler.monitoring.endpoint import Endpoint
from scheduler.monitoring.events import RunEvent
from scheduler.monitoring.hooks import RunHooks
from scheduler.monitoring.notifiers.webhook import WebhookNotifier
from scheduler.tasks.registry import RegisteredTask

from .common import Result, case_result, database_kind, emit, rounded, throwaway_database
from .systems.tickwork import CountingEngine, HandOver, TickworkHarness

WORKLOAD = "herd-monitored"


class EndingHandOver(HandOver):
    """:class:`HandOver`, then the run's end told to ``hooks``, as its worker would."""

    def __init__(self, handovers: Any, offset: timedelta, hooks: RunHooks) -> None:
        super().__init__(handovers, offset)
        self.hooks = hooks

    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        external_id = super().submit(claimed, task, reporter)
        at = claimed.run.scheduled_for
        ended = replace(claimed.run, status=RunStatus.SUCCEEDED, started_at=at, finished_at=at)
        self.hooks.emit_finished(RunEvent.of(ended, claimed.job))
        return external_id


class MonitoredHarness(TickworkHarness):
    """The Tickwork herd harness, with monitoring on when ``monitored``."""

    def __init__(self, database: Any, *, monitored: bool) -> None:
        super().__init__(database)
        self.monitored = monitored
        self.hooks = RunHooks()
        self.notified: list[RunEvent] = []
        self.endpoint: Endpoint | None = None
        self.notifier: WebhookNotifier | None = None
        self._scraping = threading.Event()

    def start(self) -> None:
        executors = {"default": EndingHandOver(self.handovers, self.clock.offset, self.hooks)}
        after_tick: tuple[Any, ...] = ()
        if self.monitored:
            self.endpoint = Endpoint(
                self.store,
                port=0,
                clock=self.clock,
                heartbeat_interval=timedelta(seconds=10),
                hooks=self.hooks,
            )
            self.endpoint.__enter__()
            self.hooks.on_finished(self.notified.append)  # proof that every run was heard
            self.notifier = WebhookNotifier("alerts", url="http://127.0.0.1:9/alerts")
            self.notifier.install(self.hooks)
            after_tick = (self.endpoint.after_tick,)
            threading.Thread(target=self._scrape, args=(self.endpoint,), daemon=True).start()
        engine = CountingEngine(
            self.store,
            executors,
            registry=self.registry,
            clock=self.clock,
            hooks=self.hooks,
            after_tick=after_tick,
        )
        engine.wakeups, engine.claims = self.wakeups, self.claims
        self._engine = engine
        self._thread = threading.Thread(target=engine.run, name="tickwork-engine", daemon=True)
        self._thread.start()

    def _scrape(self, endpoint: Endpoint) -> None:
        host, port = endpoint.address
        while not self._scraping.wait(5.0):  # Prometheus: 15 s to 1 min
            with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as answer:
                answer.read()

    def stop(self) -> dict[str, float]:
        self._scraping.set()
        stopping = super().stop()
        if self.endpoint is not None:
            self.endpoint.__exit__(None, None, None)
        if self.notifier is not None:
            self.notifier.close(timeout=1.0)
            self.notifier.uninstall(self.hooks)
        return stopping


def measure_once(system: str, jobs: int, *, monitored: bool, lead: float, budget: float) -> float:
    """Seconds from the due instant to the last of ``jobs`` hand-overs."""
    with (
        tempfile.TemporaryDirectory(prefix="tickwork-bench-") as workdir,
        throwaway_database(database_kind(system), Path(workdir)) as database,
    ):
        harness = MonitoredHarness(database, monitored=monitored)
        harness.fill_herd(jobs)
        due = harness.start_herd(lead)
        if not harness.handovers.wait_for(jobs, until=due + budget):
            raise RuntimeError(f"{system}: the herd of {jobs} was not handed over in {budget}s")
        last = max(item.at for item in harness.handovers.snapshot()) - due
        if monitored and len(harness.notified) != jobs:
            raise RuntimeError(f"the notifier heard {len(harness.notified)} of {jobs} runs")
        harness.stop()
        return last


def measure(system: str, jobs: int, rounds: int, lead: float, budget: float) -> Result:
    """Off and on, alternately, ``rounds`` times each; the medians and their ratio."""
    seconds: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(rounds):
        for variant in ("off", "on"):
            took = measure_once(system, jobs, monitored=variant == "on", lead=lead, budget=budget)
            seconds[variant].append(took)
    off, on = statistics.median(seconds["off"]), statistics.median(seconds["on"])
    return case_result(
        WORKLOAD,
        system,
        jobs,
        seconds_off=rounded(off),
        seconds_on=rounded(on),
        ratio=round(on / off, 3),
        rounds=rounds,
        all_seconds={k: [rounded(v) for v in vs] for k, vs in seconds.items()},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--systems", default="tickwork-postgresql,tickwork-sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lead", type=float, default=2.0)
    parser.add_argument("--budget", type=float, default=60.0)
    args = parser.parse_args()
    for system in args.systems.split(","):
        emit(measure(system, args.jobs, args.rounds, args.lead, args.budget))


if __name__ == "__main__":
    main()
