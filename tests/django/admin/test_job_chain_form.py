"""The job form's chain fields: the job a job runs after, and on which endings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from scheduler.django.models import Job
from scheduler.django.store import DjangoStore
from scheduler.model.chains import CHAIN_ONLY, ChainWhen
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import Trigger
from scheduler.model.statuses import RunStatus

from .conftest import NOW, PING, save
from .test_job_form import ADD, change_url, posted
from .test_runs import ran

PREVIEW = "/admin/scheduler/job/preview/"


def _errors(response: object) -> dict[str, list[str]]:
    return dict(response.context["adminform"].form.errors)  # type: ignore[attr-defined]


def test_a_job_that_runs_only_after_another_is_stored_and_follows_it(
    admin_client_: Client, store: DjangoStore
) -> None:
    save(store, name="extract")
    response = admin_client_.post(
        ADD, posted(name="load", schedule_type="after", cron="", after="extract", when="failed")
    )

    assert response.status_code == 302, _errors(response)
    stored = store.get_job("load")
    assert stored.spec.schedule == CHAIN_ONLY
    assert (stored.spec.after, stored.spec.when) == (("extract",), ChainWhen.FAILED)
    assert stored.spec.source is JobSource.ADMIN
    # Its runs come from extract's: a failed run of extract, ending after the save
    # (the admin's clock says NOW), starts one.
    upstream = ran(store, "extract", minutes_ago=-5, status=RunStatus.FAILED)
    [chained] = store.follow_chains(now=NOW + timedelta(minutes=10), limit=10)
    assert (chained.job_name, chained.trigger, chained.upstream_run_id) == (
        "load",
        Trigger.CHAIN,
        upstream,
    )


def test_a_job_may_run_on_its_schedule_and_after_another(
    admin_client_: Client, store: DjangoStore
) -> None:
    save(store, name="extract")
    response = admin_client_.post(ADD, posted(after="extract"))

    assert response.status_code == 302, _errors(response)
    stored = store.get_job("nightly")
    assert stored.spec.after == ("extract",)
    assert stored.spec.when is ChainWhen.SUCCEEDED
    # Its own schedule still gives it a first slot: 02:30 in Berlin, 1 March 2026.
    assert stored.next_run_at == datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def test_the_change_form_shows_the_chain_and_saving_it_unchanged_keeps_the_version(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="extract")
    load = JobSpec.build(
        name="load", task=PING, after=["extract"], when="finished", source=JobSource.ADMIN
    )
    store.save_job(load, now=NOW - timedelta(hours=1))
    version = store.get_job("load").version
    form = admin_client_.get(change_url(site, "load")).context["adminform"].form
    shown = {key: form[key].value() for key in ("schedule_type", "after", "when")}
    assert shown == {"schedule_type": "after", "after": "extract", "when": "finished"}

    response = admin_client_.post(
        change_url(site, "load"),
        posted(
            name="load",
            schedule_type="after",
            cron="",
            after="extract",
            when="finished",
            timezone="UTC",
            base_version=str(version),
        ),
    )

    assert response.status_code == 302, _errors(response)
    assert store.get_job("load").spec == load
    assert store.get_job("load").version == version


def test_clearing_after_on_a_scheduled_job_removes_the_chain(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="extract")
    save(store, name="nightly", cron="30 2 * * *", timezone="Europe/Berlin", after=["extract"])
    response = admin_client_.post(change_url(site, "nightly"), posted(after=""))
    assert response.status_code == 302, _errors(response)
    assert store.get_job("nightly").spec.after == ()


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        pytest.param(
            {"after": "nosuch"}, "No job is called nosuch. Jobs: extract, load.", id="unknown"
        ),
        pytest.param({"after": "nightly"}, "A job cannot run after itself.", id="itself"),
        pytest.param(
            {"schedule_type": "after", "cron": "", "after": ""},
            "'Only after other jobs' needs at least one",
            id="none-named",
        ),
        pytest.param(
            {"after": "load"},
            "That would close a cycle: nightly after load after extract after nightly.",
            id="cycle",
        ),
    ],
)
def test_a_chain_that_cannot_run_is_refused_on_after_and_nothing_is_written(
    admin_client_: Client, store: DjangoStore, site: str, changes: dict[str, str], says: str
) -> None:
    # extract runs after nightly (not stored yet, so any name goes through the store),
    # and load after extract: nightly after load would close the loop.
    save(store, name="extract", after=["nightly"])
    save(store, name="load", after=["extract"])
    before = set(Job.objects.using(site).values_list("name", "version"))

    response = admin_client_.post(ADD, posted(**changes))

    assert response.status_code == 200
    errors = _errors(response)
    assert list(errors) == ["after"], errors
    assert says in " ".join(errors["after"])
    assert set(Job.objects.using(site).values_list("name", "version")) == before


def test_a_removed_job_cannot_be_named(admin_client_: Client, store: DjangoStore) -> None:
    save(store, JobSource.YAML, name="extract")
    store.sync_jobs([], source=JobSource.YAML, now=NOW)  # gone from the file: removed
    response = admin_client_.post(ADD, posted(after="extract"))
    assert response.status_code == 200
    assert "No job is called extract." in " ".join(_errors(response)["after"])


def test_the_preview_says_what_starts_a_chained_jobs_runs(
    admin_client_: Client, store: DjangoStore
) -> None:
    save(store, name="extract")
    only_after = admin_client_.get(
        PREVIEW,
        {"schedule_type": "after", "after": "extract", "when": "failed", "timezone": "UTC"},
    ).content.decode()
    assert "after extract failed" in only_after
    assert "Runs once each time a run of extract fails, times out or is lost." in only_after
    assert "<li>" not in only_after  # no slots of its own

    both = admin_client_.get(
        PREVIEW,
        {"schedule_type": "cron", "cron": "0 9 * * *", "after": "extract", "timezone": "UTC"},
    ).content.decode()
    assert "Runs once each time a run of extract succeeds, besides the runs below." in both
    assert both.count("<li>") == 5

    unknown = admin_client_.get(
        PREVIEW, {"schedule_type": "after", "after": "nosuch", "timezone": "UTC"}
    ).content.decode()
    assert "Run after" in unknown
    assert "No job is called nosuch." in unknown

    blank = admin_client_.get(PREVIEW, {"schedule_type": "after", "timezone": "UTC"})
    assert "Name the job this one runs after." in blank.content.decode()


def test_two_names_make_a_join_that_runs_once_per_slot_both_ran_for(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="extract-a")
    save(store, name="extract-b")
    response = admin_client_.post(
        ADD,
        posted(name="load", schedule_type="after", cron="", after="extract-a, extract-b"),
    )

    assert response.status_code == 302, _errors(response)
    assert store.get_job("load").spec.after == ("extract-a", "extract-b")
    form = admin_client_.get(change_url(site, "load")).context["adminform"].form
    assert form["after"].value() == "extract-a, extract-b"
    # One slot, both upstreams succeeded after the save: one run of the join.
    first = ran(store, "extract-a", minutes_ago=-5)
    ran(store, "extract-b", minutes_ago=-5)
    [chained] = store.follow_chains(now=NOW + timedelta(minutes=10), limit=10)
    assert (chained.job_name, chained.upstream_run_id) == ("load", first)

    preview = admin_client_.get(
        PREVIEW,
        {"schedule_type": "after", "after": "extract-a,extract-b", "timezone": "UTC"},
    ).content.decode()
    assert "after extract-a and extract-b both succeeded for one slot" in preview
    assert (
        "Runs once for each slot for which extract-a and extract-b all had a run that succeeded."
        in preview
    )


def test_a_cycle_through_the_second_upstream_of_a_join_is_refused(
    admin_client_: Client, store: DjangoStore
) -> None:
    save(store, name="extract")
    save(store, name="load", after=["nightly"])  # load runs after nightly (to be added)
    response = admin_client_.post(ADD, posted(after="extract, load"))
    assert response.status_code == 200
    errors = _errors(response)
    assert errors["after"] == [
        "That would close a cycle: nightly after load after nightly. None of them would ever run."
    ]
