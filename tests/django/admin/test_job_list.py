"""The job list: what each column shows, its filters and search, and its query count."""

from __future__ import annotations

from datetime import timedelta

from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scheduler.django.models import Job
from scheduler.django.store import DjangoStore
from scheduler.model.policies import JobSource
from scheduler.model.runs import NewRun, Outcome, RunStatus, Trigger

from .conftest import NOW, PING, REPORT, save

JOBS = "/admin/scheduler/job/"


def finish(store: DjangoStore, name: str, status: RunStatus, minutes_ago: int) -> None:
    """Record a run of ``name`` whose slot was ``minutes_ago`` before NOW."""
    slot = NOW - timedelta(minutes=minutes_ago)
    run = store.add_run(name, NewRun(scheduled_for=slot, due_at=slot))
    store.mark_running(run.id, worker="w:1", now=slot)
    store.mark_finished(run.id, Outcome(status=status, finished_at=slot + timedelta(seconds=2)))


def rows(response: object) -> dict[str, str]:
    """The changelist's rows, by job name: the row's HTML."""
    html = response.content.decode()  # type: ignore[attr-defined]
    found = {}
    for row in html.split("<tr>")[1:]:
        if 'class="field-name"' in row:
            name = row.split('class="field-name"><a href="')[1].split(">")[1].split("<")[0]
            found[name] = row.split("</tr>")[0]
    return found


def test_each_column_reads_like_a_person_would_say_it(
    admin_client_: Client, store: DjangoStore
) -> None:
    save(store, name="nightly", cron="30 2 * * 1-5", timezone="Europe/Berlin")
    save(store, name="quarter", every="15m", task=REPORT)
    save(store, name="launch", at=NOW + timedelta(days=2), timezone="America/New_York")
    finish(store, "nightly", RunStatus.FAILED, minutes_ago=90)
    finish(store, "quarter", RunStatus.SUCCEEDED, minutes_ago=3)
    store.set_paused("launch", True, now=NOW)

    found = rows(admin_client_.get(JOBS))

    nightly = found["nightly"]
    assert "At 02:30, Monday through Friday" in nightly
    assert '<code class="tw-expr">30 2 * * 1-5</code>' in nightly
    # Sunday 10:00 UTC: next is Monday 02:30 in Berlin (01:30 UTC), 15.5 hours on.
    assert "2026-03-02 02:30:00 CET" in nightly
    assert "in 15 h" in nightly
    assert '<span class="tw-badge tw-bad"' in nightly
    assert ">failed</span>" in nightly
    assert "1 h 30 min ago" in nightly
    assert '<span class="tw-state tw-state-active">active</span>' in nightly
    assert '<td class="field-source">admin</td>' in nightly

    assert "every 15m" in found["quarter"]
    assert "2026-03-01 10:15:00 UTC" in found["quarter"]
    assert "in 15 min" in found["quarter"]
    assert ">succeeded</span>" in found["quarter"]

    assert "once at 2026-03-03 05:00:00 EST" in found["launch"]
    assert "(paused)" in found["launch"]
    assert "tw-state-paused" in found["launch"]
    assert '<span class="tw-none">\u2014</span>' in found["launch"]  # never ran


def test_a_page_of_jobs_costs_the_same_queries_whatever_its_length(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    def queries() -> list[str]:
        with CaptureQueriesContext(connections[site]) as captured:
            assert admin_client_.get(JOBS).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    save(store, name="job-0", every="1m")
    finish(store, "job-0", RunStatus.SUCCEEDED, minutes_ago=1)
    one = queries()
    for number in range(1, 30):
        save(store, name=f"job-{number}", every="1m")
        finish(store, f"job-{number}", RunStatus.FAILED, minutes_ago=1)
        finish(store, f"job-{number}", RunStatus.SUCCEEDED, minutes_ago=2)
    thirty = queries()

    # The page, two counts (shown and total) and the executor filter's
    # distinct values: four, with each job's last status in the page's query.
    assert len(one) == len(thirty) == 4
    page = next(sql for sql in thirty if "LIMIT" in sql)
    assert "scheduler_run" in page  # the last-status subquery rides along
    assert thirty.count(page) == 1


def test_filters_by_state_source_executor_and_last_status(
    admin_client_: Client, store: DjangoStore
) -> None:
    save(store, name="fine", every="1h")
    save(store, name="broken", every="1h", executor="other")
    save(store, name="idle", every="1h")
    save(store, JobSource.YAML, name="declared", every="1h")
    finish(store, "fine", RunStatus.SUCCEEDED, minutes_ago=5)
    finish(store, "broken", RunStatus.SUCCEEDED, minutes_ago=10)
    finish(store, "broken", RunStatus.FAILED, minutes_ago=5)
    store.set_paused("idle", True, now=NOW)

    def names(query: str) -> set[str]:
        return set(rows(admin_client_.get(JOBS + query)))

    assert names("") == {"fine", "broken", "idle", "declared"}
    assert names("?state=paused") == {"idle"}
    assert names("?state=active") == {"fine", "broken", "declared"}
    assert names("?source__exact=yaml") == {"declared"}
    assert names("?executor__exact=other") == {"broken"}
    assert names("?last_status=failed") == {"broken"}  # its latest run, not any run
    assert names("?last_status=succeeded") == {"fine"}
    assert names("?last_status=never") == {"idle", "declared"}


def test_search_finds_name_task_and_description(admin_client_: Client, store: DjangoStore) -> None:
    save(store, name="alpha", task=PING)
    save(store, name="beta", task=REPORT, description="Sends the invoices")

    def names(term: str) -> set[str]:
        return set(rows(admin_client_.get(JOBS, {"q": term})))

    assert names("alph") == {"alpha"}
    assert names("tasks.report") == {"beta"}
    assert names("invoices") == {"beta"}


def test_manual_runs_count_as_runs_for_the_last_status(
    admin_client_: Client, store: DjangoStore
) -> None:
    save(store, name="nightly")
    store.add_run("nightly", NewRun(scheduled_for=NOW, due_at=NOW, trigger=Trigger.MANUAL))
    assert ">pending</span>" in rows(admin_client_.get(JOBS))["nightly"]


def fired(store: DjangoStore, site: str, name: str) -> None:
    """A deferred call ``name`` whose one run came and succeeded, as the scheduler leaves it."""
    save(store, JobSource.CODE, name=name, at=NOW - timedelta(minutes=5))
    Job.objects.using(site).filter(name=name).update(next_run_at=None)  # claimed: no next slot
    finish(store, name, RunStatus.SUCCEEDED, minutes_ago=5)


def test_finished_one_off_jobs_show_as_finished_and_only_when_asked_for(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="nightly")
    save(store, name="later", at=NOW + timedelta(hours=1))  # a one-off still to come
    save(store, name="idle", every="1h")
    store.set_paused("idle", True, now=NOW)
    fired(store, site, "remind-1")
    fired(store, site, "remind-2")

    def names(query: str) -> set[str]:
        return set(rows(admin_client_.get(JOBS + query)))

    assert names("") == {"nightly", "later", "idle"}
    assert names("?state=finished") == {"remind-1", "remind-2"}
    assert names("?state=active") == {"nightly", "later"}
    assert names("?state=paused") == {"idle"}
    assert names("?state=all") == {"nightly", "later", "idle", "remind-1", "remind-2"}
    finished = rows(admin_client_.get(JOBS + "?state=finished"))["remind-1"]
    assert '<span class="tw-state tw-state-finished">finished</span>' in finished
    assert "(finished)" in finished
    assert "schedule ended" not in finished
    assert ">succeeded</span>" in finished

    page = admin_client_.get(JOBS).content.decode()
    assert "not finished (default)" in page
    assert "?state=finished" in page


def test_links_to_a_particular_job_find_it_even_when_finished(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    fired(store, site, "remind-1")
    save(store, name="nightly")
    pk = Job.objects.using(site).get(name="remind-1").pk

    def names(query: str) -> set[str]:
        return set(rows(admin_client_.get(JOBS + query)))

    assert names(f"?id__exact={pk}") == {"remind-1"}
    assert names("?name=remind-1") == {"remind-1"}
    assert names("?q=remind") == {"remind-1"}
    assert names("?q=") == {"nightly"}
    page = admin_client_.get(f"{JOBS}{pk}/change/")
    assert page.status_code == 200
    assert "tw-state-finished" in page.content.decode()
