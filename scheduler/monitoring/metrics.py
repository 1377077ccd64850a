"""Prometheus metrics of one scheduler replica (the ``metrics`` extra: ``prometheus_client``).

Each :class:`Metrics` has a registry of its own (never the global one), so
two engines in one process, or two tests, never share a count.  A
:class:`~scheduler.monitoring.monitor.Monitor` feeds it; ``GET /metrics``
(:mod:`scheduler.monitoring.server`) renders it in the Prometheus text format.

The metrics:

``tickwork_runs_total{job,status}`` (counter)
    Runs that ended, by final status: ``succeeded``, ``failed``,
    ``timed_out``, ``lost``, ``cancelled``, and the slots recorded
    ``skipped`` (overlap) or ``missed`` (catch-up).  Each run is counted once,
    by one replica (see *Who counts a run* below).
``tickwork_run_duration_seconds{job}`` (histogram)
    Started to finished, for runs that started.
``tickwork_run_lateness_seconds`` (histogram)
    Started minus scheduled (``started_at - scheduled_for``), once per run
    that started.  Retries are left out: they start late by their backoff on
    purpose.
``tickwork_runs_in_flight`` (gauge)
    Runs started in this process and not ended, plus runs this replica
    handed to outside workers and has not yet seen end.
``tickwork_claim_seconds`` (histogram)
    How long one claim (due jobs, then due pending runs) took, per wake-up
    that reached the store.
``tickwork_commit_batch_size`` (histogram)
    How many run starts and ends one group commit wrote (the engine's
    ``group_commit`` setting), per write; reported after each wake-up.
``tickwork_due_backlog`` (gauge)
    Due and not yet handed over: active jobs whose ``next_run_at`` passed,
    plus unclaimed pending runs whose ``due_at`` passed (store-wide; read
    every few seconds, not on every wake-up).
``tickwork_store_up`` (gauge)
    1 when the last call to the store (a wake-up, or the monitor's own
    read) answered, 0 when it did not.
``tickwork_last_heartbeat_timestamp_seconds`` (gauge)
    Unix time of this replica's latest recorded heartbeat.
``tickwork_jobs{state}`` (gauge)
    Jobs by state: ``active``, ``paused``, ``disabled``, ``removed`` (store-wide).
``tickwork_hook_errors_total`` (counter)
    Run hooks (notifiers, your own) that raised in this process.
``tickwork_notifications_total{notifier,outcome}`` (counter)
    Notifications of this process's notifiers (failure alerts) by outcome:
    ``sent``, ``failed`` (not delivered after its retries), ``dropped`` (the
    notifier's queue was full), ``skipped`` (held back, e.g. by a throttle).

Label values: ``job`` is the job's name, so its values are bounded by the
number of jobs.  A deferred call (``task.defer(...)``: a one-off job of
source ``code``, named ``<task>:<16 hex digits>``) is labelled with its task
instead, so a million deferrals of one task make one label value, not a
million.

Who counts a run: the process whose hooks record its end counts it, from the
run hooks (``on_run_finished``) — in-process executors' runs, skipped and
missed slots, recoveries.  Runs handed to outside workers (Celery,
django.tasks: those with an external id) end in the worker, whose hooks fire
there; they are counted by the replica that claimed and handed them over,
which follows their ids and reads their final state from the run table
every few seconds.  A hook event that carries an external id is never
counted by the hooks, wherever it fires (a worker, or a replica recording
such a run ``lost``), so no run is counted twice; nor is a run that an
eager backend ends inside this process while it is being handed over (its
hook counts it, before it has an external id).  A replica that dies takes
its counters with it, as every Prometheus counter does.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta

from ..model.jobs import JobSpec
from ..model.runs import RunStatus, Trigger
from ..tasks.oneoff import is_deferred
from .notifiers.base import installed_notifiers

try:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
    from prometheus_client.core import CounterMetricFamily, Metric
    from prometheus_client.exposition import generate_latest
except ImportError as error:  # pragma: no cover - the extra is in the test environment
    raise ImportError("metrics need prometheus_client: pip install 'tickwork[metrics]'") from error

__all__ = ["CONTENT_TYPE", "Metrics", "job_label"]

#: The Content-Type of :meth:`Metrics.render`: the text format every Prometheus reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Few buckets per job: each is a series per job label.
_DURATION_BUCKETS = (0.1, 1, 10, 60, 300, 1800, 3600)
_LATENESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
_CLAIM_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


def job_label(job: JobSpec) -> str:
    """The ``job`` label of ``job``'s runs: its name, or a deferred call's task."""
    return job.task if is_deferred(job) else job.name


class _HookErrors:
    """``tickwork_hook_errors_total``, read from the hooks' own count at scrape time."""

    def __init__(self, count: Callable[[], int]) -> None:
        self._count = count

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "tickwork_hook_errors", "Run hooks that raised in this process."
        )
        family.add_metric([], self._count())
        yield family


def _notifier_counts() -> list[tuple[str, Mapping[str, int]]]:
    return [(notifier.name, notifier.counts) for notifier in installed_notifiers()]


class _Notifications:
    """``tickwork_notifications_total``, read from the notifiers' own counts at scrape time."""

    def __init__(self, counts: Callable[[], list[tuple[str, Mapping[str, int]]]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "tickwork_notifications",
            "Failure notifications of this process, by notifier and outcome.",
            labels=["notifier", "outcome"],
        )
        for name, counts in self._counts():
            for outcome, count in sorted(counts.items()):
                family.add_metric([name, outcome], count)
        yield family


class _Pending:
    """Collected first at every scrape: applies the runs noted since the last one."""

    def __init__(self, apply: Callable[[], None]) -> None:
        self._apply = apply

    def collect(self) -> Iterator[Metric]:
        self._apply()
        return iter(())


class Metrics:
    """The metric objects of one replica, in a registry of their own.

    ``hook_errors`` is read at every scrape (the hooks' error count), and so
    is ``notifications`` (each notifier's name and counts; by default those of
    the notifiers installed in this process).  The
    methods record what a monitor saw; none reads a clock.  Runs that start
    and end are only noted where they happen (a hook runs in the thread that
    recorded the run, often the engine's, and must be quick); they are
    counted when the registry is next read (a scrape) or :meth:`apply_pending`
    is called, so every read sees every run noted before it.
    """

    def __init__(
        self,
        *,
        hook_errors: Callable[[], int] = lambda: 0,
        notifications: Callable[[], list[tuple[str, Mapping[str, int]]]] = _notifier_counts,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self._pending: deque[tuple[str, RunStatus, timedelta | None] | timedelta] = deque()
        self._applying = threading.Lock()
        reg.register(_Pending(self.apply_pending))
        self.runs = Counter(
            "tickwork_runs", "Runs that ended, by final status.", ["job", "status"], registry=reg
        )
        self.duration = Histogram(
            "tickwork_run_duration_seconds",
            "Run duration, started to finished.",
            ["job"],
            buckets=_DURATION_BUCKETS,
            registry=reg,
        )
        self.lateness = Histogram(
            "tickwork_run_lateness_seconds",
            "Started minus scheduled, first attempts.",
            buckets=_LATENESS_BUCKETS,
            registry=reg,
        )
        self.in_flight = Gauge("tickwork_runs_in_flight", "Runs started, not ended.", registry=reg)
        self.claim = Histogram(
            "tickwork_claim_seconds", "One claim.", buckets=_CLAIM_BUCKETS, registry=reg
        )
        self.commit_batch = Histogram(
            "tickwork_commit_batch_size",
            "Run starts and ends written by one group commit.",
            buckets=_BATCH_BUCKETS,
            registry=reg,
        )
        self.backlog = Gauge(
            "tickwork_due_backlog", "Due jobs and runs not handed over.", registry=reg
        )
        self.store_up = Gauge("tickwork_store_up", "The store answered.", registry=reg)
        self.heartbeat = Gauge(
            "tickwork_last_heartbeat_timestamp_seconds", "Latest heartbeat.", registry=reg
        )
        self.jobs = Gauge("tickwork_jobs", "Jobs by state.", ["state"], registry=reg)
        reg.register(_HookErrors(hook_errors))
        reg.register(_Notifications(notifications))

    def ended(self, label: str, status: RunStatus, duration: timedelta | None) -> None:
        """Note a run that ended in ``status``, with its ``duration`` if it started."""
        self._pending.append((label, status, duration))

    def started(self, lateness: timedelta | None, trigger: Trigger) -> None:
        """Note the lateness of a run that started (not of a retry)."""
        if lateness is not None and trigger is not Trigger.RETRY:
            self._pending.append(lateness)

    def apply_pending(self) -> None:
        """Count the runs noted so far (thread-safe; a scrape calls it first)."""
        with self._applying:
            while self._pending:
                noted = self._pending.popleft()
                if isinstance(noted, timedelta):
                    self.lateness.observe(max(noted.total_seconds(), 0.0))
                    continue
                label, status, duration = noted
                self.runs.labels(job=label, status=status.value).inc()
                if duration is not None:
                    self.duration.labels(job=label).observe(max(duration.total_seconds(), 0.0))

    def overview(self, jobs_by_state: Mapping[str, int], due_backlog: int) -> None:
        for state, count in jobs_by_state.items():
            self.jobs.labels(state=state).set(count)
        self.backlog.set(due_backlog)

    def heartbeat_at(self, at: datetime | None) -> None:
        if at is not None:
            self.heartbeat.set(at.timestamp())

    def render(self) -> bytes:
        """The metrics in the Prometheus text format (:data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)
