"""The run history: the list, a run's page, a job's recent runs, cancelling, replicas."""

from __future__ import annotations

from datetime import timedelta

from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scheduler.django.models import Job, Run
from scheduler.django.store import DjangoStore
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import NewRun, Outcome, RunStatus, Trigger
from scheduler.testing import FakeClock

from .conftest import NOW, PING, client_for, save, user

RUNS = "/admin/scheduler/run/"
TRACEBACK = """Traceback (most recent call last):
  File "tasks.py", line 3, in ping
    raise ValueError("no <pong> today")
ValueError: no <pong> today"""


def ran(
    store: DjangoStore,
    name: str,
    minutes_ago: int,
    status: RunStatus = RunStatus.SUCCEEDED,
    seconds: float = 1.5,
    error: str = "",
) -> int:
    """A finished run of ``name``, its slot ``minutes_ago`` before NOW; its id."""
    slot = NOW - timedelta(minutes=minutes_ago)
    run = store.add_run(name, NewRun(scheduled_for=slot, due_at=slot))
    store.mark_running(run.id, worker="web-1:42", now=slot)
    store.mark_finished(
        run.id,
        Outcome(
            status=status,
            finished_at=slot + timedelta(seconds=seconds),
            error=error,
            traceback=TRACEBACK if error else "",
            result=None if error else {"sent": 3},
        ),
    )
    return run.id


def listed(client: Client, query: str = "") -> list[str]:
    """The run list's rows, as HTML, top to bottom."""
    html = client.get(RUNS + query).content.decode()
    return [row.split("</tr>")[0] for row in html.split("<tr>")[1:] if "field-slot" in row]


def test_the_run_list_shows_each_run_on_its_jobs_clock(
    admin_client_: Client, store: DjangoStore
) -> None:
    save(store, name="nightly", cron="30 2 * * *", timezone="Europe/Berlin")
    ran(store, "nightly", minutes_ago=60, status=RunStatus.FAILED, seconds=75, error=TRACEBACK)
    ran(store, "nightly", minutes_ago=30)

    rows = listed(admin_client_)

    assert len(rows) == 2
    newest, failed = rows
    assert "2026-03-01 10:30:00 CET" in newest
    assert "30 min ago" in newest
    assert ">nightly</a>" in newest
    assert ">succeeded</span>" in newest
    assert "1.50 s" in newest
    assert "2026-03-01 10:00:00 CET" in failed
    assert ">failed</span>" in failed
    assert "1 min 15 s" in failed
    assert '<td class="field-error_line">Traceback (most recent call last):</td>' in failed


def test_a_page_of_runs_selects_their_jobs_in_the_same_query(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connections[site]) as captured:
            assert admin_client_.get(RUNS).status_code == 200
        return len(captured)

    save(store, name="job-0", every="1m")
    ran(store, "job-0", minutes_ago=1)
    one = count()
    for number in range(1, 20):
        save(store, name=f"job-{number}", every="1m")
        ran(store, f"job-{number}", minutes_ago=1)
        ran(store, f"job-{number}", minutes_ago=2)
    assert count() == one


def test_runs_filter_by_status_trigger_job_and_date(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="alpha", every="1m")
    save(store, name="beta", every="1m")
    ran(store, "alpha", minutes_ago=5, status=RunStatus.FAILED, error="boom")
    ran(store, "beta", minutes_ago=5)
    ran(store, "beta", minutes_ago=60 * 24 * 3)
    store.add_run("alpha", NewRun(scheduled_for=NOW, due_at=NOW, trigger=Trigger.MANUAL))
    beta = Job.objects.using(site).get(name="beta").pk

    assert len(listed(admin_client_)) == 4
    assert len(listed(admin_client_, "?status__exact=failed")) == 1
    assert len(listed(admin_client_, "?trigger__exact=manual")) == 1
    assert len(listed(admin_client_, f"?job={beta}")) == 2
    on_first = "?scheduled_for__year=2026&scheduled_for__month=3&scheduled_for__day=1"
    assert len(listed(admin_client_, on_first)) == 3
    assert len(listed(admin_client_, "?q=boom")) == 1


def test_a_runs_page_is_read_only_and_shows_its_traceback_readably(
    admin_client_: Client, store: DjangoStore
) -> None:
    save(store, name="nightly", every="1h")
    run_id = ran(store, "nightly", minutes_ago=5, status=RunStatus.FAILED, error="no pong")
    url = f"{RUNS}{run_id}/change/"

    page = admin_client_.get(url).content.decode()

    assert '<pre class="tw-block tw-traceback">Traceback (most recent call last):\n' in page
    assert "raise ValueError(&quot;no &lt;pong&gt; today&quot;)" in page  # escaped
    assert '<pre class="tw-block tw-error">no pong</pre>' in page
    assert "web-1:42" in page
    assert 'name="_save"' not in page
    assert admin_client_.post(url, {}).status_code == 403
    assert admin_client_.get(f"{RUNS}add/").status_code == 403


def test_a_jobs_page_lists_its_last_twenty_runs_in_one_query(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="nightly", every="1m", timezone="Asia/Tokyo")
    for minutes_ago in range(1, 26):
        ran(store, "nightly", minutes_ago=minutes_ago)
    url = f"/admin/scheduler/job/{Job.objects.using(site).get().pk}/change/"

    with CaptureQueriesContext(connections[site]) as captured:
        page = admin_client_.get(url).content.decode()

    recent = page.split('id="tw-recent-runs"')[1].split("</table>")[0]
    slots = [row.split("</a>")[0].rsplit(">", 1)[1] for row in recent.split("<tr><td>")[1:]]
    assert slots == [f"2026-03-01 18:{59 - n:02d}:00 JST" for n in range(20)]
    run_queries = [q["sql"] for q in captured.captured_queries if "scheduler_run" in q["sql"]]
    # The job with its last status (one query), the twenty runs (one more), and
    # the last 200 runs' slots, statuses and durations for the charts (one more).
    assert len(run_queries) == 3


def test_cancel_withdraws_runs_that_have_not_started(
    store: DjangoStore, site: str, clock: FakeClock
) -> None:
    save(store, name="nightly", every="1h")
    waiting = store.add_run("nightly", NewRun(scheduled_for=NOW, due_at=NOW)).id
    done = ran(store, "nightly", minutes_ago=5)
    selected = {"action": "cancel", "_selected_action": [str(waiting), str(done)]}

    viewer = client_for(user("viewer", "view_run"))
    viewer.post(RUNS, selected)
    assert Run.objects.using(site).get(pk=waiting).status == RunStatus.PENDING.value

    runner = client_for(user("runner", "view_run", "run_job"))
    response = runner.post(RUNS, selected, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        f"Cancelled runs {waiting}.",
        f"Not cancelled, because they had started or ended: runs {done}.",
    ]
    assert Run.objects.using(site).get(pk=waiting).status == RunStatus.CANCELLED.value
    assert Run.objects.using(site).get(pk=done).status == RunStatus.SUCCEEDED.value


def test_replicas_show_whether_they_are_alive(
    admin_client_: Client, store: DjangoStore, clock: FakeClock
) -> None:
    store.heartbeat("beating", hostname="host-a", pid=1, now=NOW - timedelta(seconds=5))
    store.heartbeat("silent", hostname="host-b", pid=2, now=NOW - timedelta(minutes=5))
    html = admin_client_.get("/admin/scheduler/replica/").content.decode()
    rows = {
        row.split("</th>")[0].rsplit(">", 2)[-2].split("<")[0]: row
        for row in html.split("<tr>")[1:]
        if "field-id" in row
    }
    assert 'alt="True"' in rows["beating"]
    assert "5 s ago" in rows["beating"]
    assert 'alt="False"' in rows["silent"]


def test_a_chained_runs_page_links_the_upstream_run_that_started_it(
    admin_client_: Client, store: DjangoStore
) -> None:
    save(store, name="extract")
    load = JobSpec.build(name="load", task=PING, after=["extract"], source=JobSource.ADMIN)
    store.save_job(load, now=NOW - timedelta(hours=2))
    upstream = ran(store, "extract", minutes_ago=30)
    [chained] = store.follow_chains(now=NOW, limit=10)

    page = admin_client_.get(f"{RUNS}{chained.id}/change/").content.decode()
    upstream_page = admin_client_.get(f"{RUNS}{upstream}/change/").content.decode()

    assert chained.trigger is Trigger.CHAIN
    assert f'<a href="{RUNS}{upstream}/change/">run {upstream} of extract, succeeded</a>' in page
    assert ">chain<" in page or "chain</div>" in page
    assert "After run" in upstream_page and "of extract, succeeded</a>" not in upstream_page


def test_the_job_list_says_what_a_chained_job_runs_after(
    admin_client_: Client, store: DjangoStore
) -> None:
    save(store, name="extract")
    load = JobSpec.build(name="load", task=PING, after=["extract"], source=JobSource.ADMIN)
    store.save_job(load, now=NOW)

    html = admin_client_.get("/admin/scheduler/job/").content.decode()

    row = next(part for part in html.split("<tr") if ">load</a>" in part)
    assert "after extract succeeded" in row, row
    assert "1970" not in row
    assert "tw-state-active" in row


def test_the_job_list_names_every_upstream_of_a_join(
    admin_client_: Client, store: DjangoStore
) -> None:
    save(store, name="extract-a")
    save(store, name="extract-b")
    load = JobSpec.build(
        name="load", task=PING, after=["extract-a", "extract-b"], source=JobSource.ADMIN
    )
    store.save_job(load, now=NOW)

    html = admin_client_.get("/admin/scheduler/job/").content.decode()

    row = next(part for part in html.split("<tr") if ">load</a>" in part)
    assert "after extract-a and extract-b both succeeded for one slot" in row, row
