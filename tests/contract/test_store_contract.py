"""Store contract, jobs: sync from a source, save, read, pause and resume, next wake."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from scheduler.errors import InvalidJob, JobChanged, JobNotFound
from scheduler.model.policies import JobSource
from scheduler.stores.base import NextWork, Store, SyncReport

from .helpers import (
    HOUR,
    MINUTE,
    NOW,
    RecordingPlanner,
    add_runs,
    assert_all_utc,
    hourly,
    stored,
)

YAML = JobSource.YAML
ADMIN = JobSource.ADMIN
LATER = NOW + 3 * HOUR + 30 * MINUTE  # 15:30


# -- sync_jobs ------------------------------------------------------------------
def test_sync_adds_new_jobs_due_at_the_first_slot_after_now(store: Store) -> None:
    a, b = hourly("a", source=YAML), hourly("b", source=YAML)
    report = store.sync_jobs([a, b], source=YAML, now=NOW)
    assert report == SyncReport(added=("a", "b"))
    assert report.changed
    assert store.list_jobs() == [
        stored(a, next_run_at=NOW + HOUR),
        stored(b, next_run_at=NOW + HOUR),
    ]


def test_sync_reports_names_in_order(store: Store) -> None:
    specs = [hourly(name, source=YAML) for name in ("c", "a", "b", "e", "d")]
    store.sync_jobs(specs[2:], source=YAML, now=NOW)
    changed = [
        specs[0],
        specs[1],
        hourly("e", source=YAML, args=[1]),
        hourly("b", source=YAML, args=[1]),
    ]
    report = store.sync_jobs(changed, source=YAML, now=LATER)
    assert report == SyncReport(added=("a", "c"), updated=("b", "e"), disabled=("d",))


def test_sync_adds_a_disabled_job_with_no_next_run(store: Store) -> None:
    off = hourly("off", source=YAML, enabled=False)
    store.sync_jobs([off], source=YAML, now=NOW)
    assert store.get_job("off") == stored(off, next_run_at=None)


def test_sync_of_an_unchanged_definition_keeps_next_run_and_version(store: Store) -> None:
    a = hourly("a", source=YAML)
    store.sync_jobs([a], source=YAML, now=NOW)
    report = store.sync_jobs([hourly("a", source=YAML)], source=YAML, now=LATER)
    assert report == SyncReport(unchanged=("a",))
    assert not report.changed
    assert store.get_job("a") == stored(a, next_run_at=NOW + HOUR)


def test_sync_updates_a_changed_definition_from_now(store: Store) -> None:
    store.sync_jobs([hourly("a", source=YAML), hourly("b", source=YAML)], source=YAML, now=NOW)
    changed = hourly("a", source=YAML, args=[1, "x"])
    report = store.sync_jobs([changed, hourly("b", source=YAML)], source=YAML, now=LATER)
    assert report == SyncReport(updated=("a",), unchanged=("b",))
    assert store.get_job("a") == stored(
        changed, next_run_at=NOW + 4 * HOUR, version=2, updated_at=LATER
    )


def test_sync_disables_jobs_missing_from_the_source_and_keeps_them(store: Store) -> None:
    a, b = hourly("a", source=YAML), hourly("b", source=YAML)
    store.sync_jobs([a, b], source=YAML, now=NOW)
    report = store.sync_jobs([a], source=YAML, now=LATER)
    assert report == SyncReport(disabled=("b",), unchanged=("a",))
    assert store.list_jobs() == [
        stored(a, next_run_at=NOW + HOUR),
        stored(
            replace(b, enabled=False),
            next_run_at=None,
            version=2,
            updated_at=LATER,
            removed_at=LATER,
        ),
    ]


def test_sync_marks_a_job_removed_even_if_it_was_declared_disabled(store: Store) -> None:
    off = hourly("off", source=YAML, enabled=False)
    store.sync_jobs([off], source=YAML, now=NOW)
    assert store.sync_jobs([], source=YAML, now=LATER) == SyncReport(disabled=("off",))
    assert store.get_job("off").removed_at == LATER
    report = store.sync_jobs([off], source=YAML, now=LATER + HOUR)
    assert report == SyncReport(updated=("off",))
    assert store.get_job("off").removed_at is None


def test_sync_does_not_report_an_already_disabled_job_again(store: Store) -> None:
    a, b = hourly("a", source=YAML), hourly("b", source=YAML)
    store.sync_jobs([a, b], source=YAML, now=NOW)
    store.sync_jobs([a], source=YAML, now=NOW + MINUTE)
    before = store.list_jobs()
    assert store.sync_jobs([a], source=YAML, now=LATER) == SyncReport(unchanged=("a",))
    assert store.list_jobs() == before


def test_sync_re_enables_a_job_that_comes_back(store: Store) -> None:
    a, b = hourly("a", source=YAML), hourly("b", source=YAML)
    store.sync_jobs([a, b], source=YAML, now=NOW)
    store.sync_jobs([a], source=YAML, now=NOW + MINUTE)
    report = store.sync_jobs([a, b], source=YAML, now=LATER)
    assert report == SyncReport(updated=("b",), unchanged=("a",))
    assert store.get_job("b") == stored(b, next_run_at=NOW + 4 * HOUR, version=3, updated_at=LATER)


def test_sync_never_touches_jobs_of_another_source(store: Store) -> None:
    mine = store.save_job(hourly("mine", source=ADMIN), now=NOW)
    report = store.sync_jobs([], source=YAML, now=LATER)
    assert report == SyncReport()
    assert store.list_jobs() == [mine]


def test_sync_refuses_a_name_owned_by_another_source_and_changes_nothing(store: Store) -> None:
    store.save_job(hourly("taken", source=ADMIN), now=NOW)
    store.sync_jobs([hourly("a", source=YAML), hourly("b", source=YAML)], source=YAML, now=NOW)
    before = store.list_jobs()
    clash = [
        hourly("a", source=YAML, args=[2]),
        hourly("new", source=YAML),
        hourly("taken", source=YAML),
    ]
    with pytest.raises(InvalidJob, match="taken"):
        store.sync_jobs(clash, source=YAML, now=LATER)
    assert store.list_jobs() == before


def test_sync_refuses_a_name_given_twice_and_changes_nothing(store: Store) -> None:
    store.sync_jobs([hourly("a", source=YAML)], source=YAML, now=NOW)
    before = store.list_jobs()
    twice = [hourly("b", source=YAML), hourly("b", source=YAML, args=[1])]
    with pytest.raises(InvalidJob, match="b"):
        store.sync_jobs(twice, source=YAML, now=LATER)
    assert store.list_jobs() == before


def test_sync_takes_a_generator_of_specs_larger_than_a_batch(store: Store) -> None:
    store.sync_jobs((hourly(f"j{i:05d}", source=YAML) for i in range(2_500)), source=YAML, now=NOW)
    edited = (
        hourly(f"j{i:05d}", source=YAML, args=[1]) if i == 7 else hourly(f"j{i:05d}", source=YAML)
        for i in range(1, 2_500)
    )
    report = store.sync_jobs(edited, source=YAML, now=LATER)
    assert (report.added, report.updated, report.disabled) == ((), ("j00007",), ("j00000",))
    assert len(report.unchanged) == 2_498
    assert store.get_job("j00007").spec.args == (1,)
    assert store.get_job("j00000").removed_at == LATER


def test_sync_refuses_a_name_given_twice_far_apart_in_a_generator(store: Store) -> None:
    store.sync_jobs([hourly("a", source=YAML)], source=YAML, now=NOW)
    before = store.list_jobs()
    names = [f"j{i:05d}" for i in range(2_500)] + ["j00001"]
    with pytest.raises(InvalidJob, match="j00001"):
        store.sync_jobs((hourly(name, source=YAML) for name in names), source=YAML, now=LATER)
    assert store.list_jobs() == before


def test_save_job_refuses_to_replace_a_job_of_another_source(store: Store) -> None:
    store.sync_jobs([hourly("a", source=YAML)], source=YAML, now=NOW)
    before = store.list_jobs()
    with pytest.raises(InvalidJob, match="already exists from source 'yaml'"):
        store.save_job(hourly("a", source=ADMIN, args=[1]), now=LATER)
    assert store.list_jobs() == before


def test_synced_jobs_belong_to_the_source_they_were_synced_from(store: Store) -> None:
    store.sync_jobs([hourly("a", source=JobSource.CODE)], source=YAML, now=NOW)
    assert store.get_job("a") == stored(hourly("a", source=YAML), next_run_at=NOW + HOUR)


# -- save_job, get_job, list_jobs -----------------------------------------------
def test_save_job_creates_the_job_due_at_its_first_slot(store: Store) -> None:
    spec = hourly("a", source=ADMIN, kwargs={"to": ["ops@example.com"]})
    expected = stored(spec, next_run_at=NOW + HOUR)
    assert store.save_job(spec, now=NOW) == expected
    assert store.get_job("a") == expected


def test_list_jobs_orders_by_name(store: Store) -> None:
    for name in ("b", "c", "a"):
        store.save_job(hourly(name), now=NOW)
    assert [job.spec.name for job in store.list_jobs()] == ["a", "b", "c"]


def test_list_jobs_of_an_empty_store_is_empty(store: Store) -> None:
    assert store.list_jobs() == []


def test_save_job_with_the_same_definition_changes_nothing(store: Store) -> None:
    first = store.save_job(hourly("a"), now=NOW)
    assert store.save_job(hourly("a"), now=LATER) == first
    assert store.get_job("a") == first


def test_save_job_replaces_a_changed_definition_from_now(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW)
    changed = hourly("a", description="new words")
    expected = stored(changed, next_run_at=NOW + 4 * HOUR, version=2, updated_at=LATER)
    assert store.save_job(changed, now=LATER) == expected
    assert store.get_job("a") == expected


# -- expected_version: two editors never overwrite each other silently -------------
def test_save_job_at_the_expected_version_saves(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW, expected_version=0)
    saved = store.save_job(hourly("a", description="mine"), now=LATER, expected_version=1)
    assert saved.version == 2
    assert store.get_job("a") == saved


def test_save_job_based_on_an_old_version_changes_nothing(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW)
    store.save_job(hourly("a", description="theirs"), now=LATER)  # version 2
    before = store.list_jobs()
    with pytest.raises(JobChanged, match=r"at version 2, this change was based on version 1"):
        store.save_job(hourly("a", description="mine"), now=LATER, expected_version=1)
    assert store.list_jobs() == before
    # Even a change that would leave the definition as it is: it was made blind.
    with pytest.raises(JobChanged):
        store.save_job(hourly("a", description="theirs"), now=LATER, expected_version=1)


def test_save_job_expecting_a_new_job_refuses_an_existing_one(store: Store) -> None:
    store.save_job(hourly("a", description="theirs"), now=NOW)
    before = store.list_jobs()
    with pytest.raises(JobChanged, match="was created by someone else meanwhile"):
        store.save_job(hourly("a", description="mine"), now=LATER, expected_version=0)
    assert store.list_jobs() == before


def test_save_job_expecting_a_job_that_is_gone_creates_nothing(store: Store) -> None:
    with pytest.raises(JobChanged, match="was deleted meanwhile"):
        store.save_job(hourly("a"), now=NOW, expected_version=3)
    assert store.list_jobs() == []


def test_save_job_refuses_another_source_before_comparing_versions(store: Store) -> None:
    store.sync_jobs([hourly("a", source=YAML)], source=YAML, now=NOW)
    with pytest.raises(InvalidJob, match="already exists from source 'yaml'"):
        store.save_job(hourly("a", source=ADMIN), now=LATER, expected_version=7)


def test_an_unknown_job_is_not_found(store: Store) -> None:
    with pytest.raises(JobNotFound, match="ghost"):
        store.get_job("ghost")
    with pytest.raises(LookupError):
        store.set_paused("ghost", True, now=NOW)


# -- pause and resume -------------------------------------------------------------
def test_pausing_clears_the_next_run_but_not_the_definition(store: Store) -> None:
    spec = hourly("a")
    store.save_job(spec, now=NOW)
    paused = stored(spec, next_run_at=None, updated_at=LATER, paused_at=LATER)
    assert store.set_paused("a", True, now=LATER) == paused
    assert store.get_job("a") == paused
    assert paused.paused and not paused.active
    assert store.next_wake() is None


def test_resuming_continues_from_now_without_a_burst(store: Store) -> None:
    spec = hourly("a")
    store.save_job(spec, now=NOW)
    store.set_paused("a", True, now=NOW + 10 * MINUTE)
    resumed = store.set_paused("a", False, now=LATER)
    assert resumed == stored(spec, next_run_at=NOW + 4 * HOUR, updated_at=LATER)
    planner = RecordingPlanner()
    assert store.claim_due(now=LATER, replica_id="r1", limit=10, plan=planner) == []
    assert planner.calls == []


def test_setting_the_current_pause_state_changes_nothing(store: Store) -> None:
    job = store.save_job(hourly("a"), now=NOW)
    assert store.set_paused("a", False, now=LATER) == job
    assert store.get_job("a") == job
    paused = store.set_paused("a", True, now=LATER)
    assert store.set_paused("a", True, now=LATER + HOUR) == paused


def test_resuming_a_disabled_job_leaves_it_without_a_next_run(store: Store) -> None:
    store.save_job(hourly("off", enabled=False), now=NOW)
    store.set_paused("off", True, now=NOW)
    resumed = store.set_paused("off", False, now=LATER)
    assert resumed.next_run_at is None and not resumed.paused and not resumed.active


def test_a_sync_keeps_a_paused_job_paused(store: Store) -> None:
    store.sync_jobs([hourly("a", source=YAML)], source=YAML, now=NOW)
    store.set_paused("a", True, now=NOW + MINUTE)
    report = store.sync_jobs([hourly("a", source=YAML)], source=YAML, now=LATER)
    assert report.unchanged == ("a",)
    changed = hourly("a", source=YAML, description="edited")
    store.sync_jobs([changed], source=YAML, now=LATER)
    job = store.get_job("a")
    assert (job.version, job.paused_at, job.next_run_at) == (2, NOW + MINUTE, None)
    assert job.spec == changed


def test_saving_a_new_definition_keeps_a_paused_job_paused(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW)
    store.set_paused("a", True, now=NOW)
    job = store.save_job(hourly("a", description="edited"), now=LATER)
    assert (job.version, job.paused_at, job.next_run_at) == (2, NOW, None)


# -- next_wake --------------------------------------------------------------------
def test_next_wake_of_an_empty_store_is_none(store: Store) -> None:
    assert store.next_wake() is None
    assert store.next_work() == NextWork(None, None)


def test_next_wake_is_the_earliest_next_run_of_an_enabled_job(store: Store) -> None:
    store.save_job(hourly("soon"), now=NOW)
    store.save_job(hourly("later"), now=NOW + HOUR)
    store.save_job(hourly("early-but-paused"), now=NOW - 5 * HOUR)
    store.set_paused("early-but-paused", True, now=NOW)
    assert store.next_wake() == NOW + HOUR


def test_next_wake_counts_unclaimed_pending_runs_only(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW)  # next run at 13:00
    claimed, unclaimed = add_runs(store, "a", NOW - 2 * HOUR, NOW + 10 * MINUTE)
    store.claim_pending(now=NOW - HOUR, replica_id="r1", limit=1)
    assert store.get_run(claimed.id).replica_id == "r1"
    assert store.next_wake() == NOW + 10 * MINUTE
    assert store.next_work() == NextWork(NOW + 10 * MINUTE, None)
    store.claim_pending(now=NOW + 10 * MINUTE, replica_id="r1", limit=1)
    assert store.get_run(unclaimed.id).replica_id == "r1"
    assert store.next_wake() == NOW + HOUR


# -- instants ---------------------------------------------------------------------
def test_jobs_come_back_with_aware_utc_instants(store: Store) -> None:
    berlin = NOW.astimezone(ZoneInfo("Europe/Berlin"))
    store.sync_jobs([hourly("a", source=YAML)], source=YAML, now=berlin)
    store.save_job(hourly("b", start=berlin, end=berlin + 48 * HOUR), now=berlin)
    store.set_paused("b", True, now=berlin + MINUTE)
    store.set_paused("b", False, now=berlin + 2 * MINUTE)
    assert_all_utc(store.list_jobs())
    assert_all_utc(store.next_wake())
    assert store.get_job("a").created_at == NOW
