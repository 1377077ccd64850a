"""Store contract, pruning: a finished deferred call goes with its history.

Deferred calls are one-off jobs of source ``code``.  Once one has run (or was
cancelled) and retention has deleted its runs, its job row is deleted too, in
the same prune, so a site that defers thousands of calls a day does not keep
their rows for ever.  Nothing else is deleted: recurring jobs, one-off jobs
from YAML or admin, calls still due, paused ones, and ones with a run left.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus
from scheduler.stores.base import Store

from .helpers import HOUR, MINUTE, NOW, RecordingPlanner, finish, hourly, once

DAY = timedelta(days=1)
MAX_AGE = 2 * DAY


def fired(store: Store, name: str, at: datetime, **options: object) -> int:
    """A one-off job saved a day before ``at``, claimed at ``at``, finished a minute later."""
    store.save_job(once(name, at, **options), now=at - DAY)
    [claimed] = [
        c
        for c in store.claim_due(now=at, replica_id="r1", limit=10, plan=RecordingPlanner())
        if c.run.job_name == name
    ]
    finish(store, claimed.run.id, at + MINUTE)
    return claimed.run.id


def names(store: Store) -> list[str]:
    return [job.spec.name for job in store.list_jobs()]


def test_a_finished_one_off_goes_with_its_last_run(store: Store) -> None:
    fired(store, "old", NOW - 5 * DAY)
    assert store.prune(now=NOW, keep_last=None, max_age=MAX_AGE) == 1
    assert names(store) == []
    assert store.list_runs() == []


def test_a_one_off_whose_run_is_kept_stays(store: Store) -> None:
    fired(store, "recent", NOW - DAY)  # finished a day ago: younger than MAX_AGE
    assert store.prune(now=NOW, keep_last=None, max_age=MAX_AGE) == 0
    assert names(store) == ["recent"]
    assert len(store.list_runs(job_name="recent")) == 1


def test_a_cancelled_call_that_never_fired_goes_once_it_is_old(store: Store) -> None:
    """Cancelling disables it: no next run and no run at all; its age is its last change."""
    store.save_job(once("cancelled", NOW + DAY, enabled=False), now=NOW - 3 * DAY)
    store.save_job(once("young", NOW + DAY, enabled=False), now=NOW - DAY)
    store.prune(now=NOW, keep_last=None, max_age=MAX_AGE)
    assert names(store) == ["young"]


def test_only_finished_deferred_calls_are_deleted(store: Store) -> None:
    long_ago = NOW - 5 * DAY
    fired(store, "deferred", long_ago)
    fired(store, "from-yaml", long_ago, source=JobSource.YAML)
    fired(store, "from-admin", long_ago, source=JobSource.ADMIN)
    fired(store, "paused", long_ago)
    store.set_paused("paused", True, now=long_ago + HOUR)
    store.save_job(once("still-due", NOW + DAY), now=long_ago)
    store.save_job(hourly("recurring", enabled=False), now=long_ago)
    assert store.prune(now=NOW, keep_last=None, max_age=MAX_AGE) == 4
    assert names(store) == ["from-admin", "from-yaml", "paused", "recurring", "still-due"]


def test_a_one_off_with_an_active_run_stays(store: Store) -> None:
    store.save_job(once("retrying", NOW - 5 * DAY), now=NOW - 6 * DAY)
    plan = RecordingPlanner(statuses={"retrying": RunStatus.PENDING})
    store.claim_due(now=NOW - 5 * DAY, replica_id="r1", limit=1, plan=plan)
    assert store.prune(now=NOW, keep_last=0, max_age=MAX_AGE) == 0  # the run is pending
    assert names(store) == ["retrying"]


def test_keep_last_alone_deletes_no_job(store: Store) -> None:
    fired(store, "old", NOW - 5 * DAY)
    assert store.prune(now=NOW, keep_last=0, max_age=None) == 1
    assert names(store) == ["old"]
