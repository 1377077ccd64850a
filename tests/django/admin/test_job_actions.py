"""Run now, pause and resume, from the job list and the job's page, and who may use them."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.test import Client

from scheduler.django.models import Job, Run
from scheduler.django.store import DjangoStore
from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus, Trigger
from scheduler.testing import FakeClock

from .conftest import NOW, client_for, save, user

JOBS = "/admin/scheduler/job/"


def job_id(site: str, name: str) -> int:
    return Job.objects.using(site).get(name=name).pk


def act(client: Client, action: str, *ids: int) -> list[str]:
    """Apply ``action`` to the jobs ``ids`` from the list; the messages shown."""
    response = client.post(
        JOBS,
        {"action": action, "_selected_action": [str(i) for i in ids], "index": "0"},
        follow=True,
    )
    assert response.redirect_chain == [(JOBS, 302)], response.content.decode()[:2000]
    return [str(message) for message in response.context["messages"]]


def action_names(client: Client) -> set[str]:
    response = client.get(JOBS)
    choices = response.context["action_form"].fields["action"].choices
    return {value for value, _ in choices if value}


def test_run_now_queues_one_pending_manual_run_per_job_and_executes_nothing(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="nightly")
    save(store, JobSource.YAML, name="declared", every="1h")

    said = act(admin_client_, "run_now", job_id(site, "nightly"), job_id(site, "declared"))

    runs = list(Run.objects.using(site).order_by("job__name").select_related("job"))
    assert [(r.job.name, r.status, r.trigger, r.scheduled_for) for r in runs] == [
        ("declared", RunStatus.PENDING.value, Trigger.MANUAL.value, NOW),
        ("nightly", RunStatus.PENDING.value, Trigger.MANUAL.value, NOW),
    ]
    assert {run.replica_id for run in runs} == {""}  # left for a scheduler to claim
    assert said == [
        f"Queued run {runs[0].pk} of declared; the scheduler hands it to the 'default' "
        "executor within a second.",
        f"Queued run {runs[1].pk} of nightly; the scheduler hands it to the 'default' "
        "executor within a second.",
    ]


def test_run_now_refuses_a_job_removed_from_its_file(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, JobSource.YAML, name="gone", every="1h")
    store.sync_jobs([], source=JobSource.YAML, now=NOW)

    said = act(admin_client_, "run_now", job_id(site, "gone"))

    assert said == ["Not queued: gone was removed from its schedules file."]
    assert not Run.objects.using(site).exists()


def test_a_second_run_now_at_the_same_instant_is_refused_with_the_reason(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="nightly")
    act(admin_client_, "run_now", job_id(site, "nightly"))
    said = act(admin_client_, "run_now", job_id(site, "nightly"))  # the clock did not move
    assert len(said) == 1
    assert said[0].startswith("Not queued: nightly: job 'nightly', slot 2026-03-01T10:00:00")
    assert "already exists" in said[0]
    assert Run.objects.using(site).count() == 1


def test_without_the_run_permission_run_now_is_hidden_and_a_forged_post_does_nothing(
    site: str, store: DjangoStore, clock: FakeClock
) -> None:
    save(store, name="nightly")
    editor = client_for(user("editor", "view_job", "change_job", "add_job", "delete_job"))

    assert "run_now" not in action_names(editor)
    assert {"pause", "resume"} <= action_names(editor)
    said = act(editor, "run_now", job_id(site, "nightly"))
    assert said == ["No action selected."]

    page = editor.get(f"{JOBS}{job_id(site, 'nightly')}/change/").content.decode()
    assert "Run now</button>" not in page
    assert editor.post(f"{JOBS}{job_id(site, 'nightly')}/run/").status_code == 403
    assert not Run.objects.using(site).exists()


def test_the_run_now_button_queues_a_run_and_returns_to_the_job(
    site: str, store: DjangoStore, clock: FakeClock
) -> None:
    save(store, name="nightly")
    runner = client_for(user("runner", "view_job", "run_job"))
    page = f"{JOBS}{job_id(site, 'nightly')}/change/"

    assert "Run now</button>" in runner.get(page).content.decode()
    assert runner.get(f"{JOBS}{job_id(site, 'nightly')}/run/").status_code == 405
    assert not Run.objects.using(site).exists()  # a GET changes nothing

    response = runner.post(f"{JOBS}{job_id(site, 'nightly')}/run/")
    assert (response.status_code, response["Location"]) == (302, page)
    run = Run.objects.using(site).get()
    assert (run.trigger, run.status) == (Trigger.MANUAL.value, RunStatus.PENDING.value)

    # Running is not editing: the same user may not pause.
    assert "pause" not in action_names(runner)
    act(runner, "pause", job_id(site, "nightly"))
    assert store.get_job("nightly").paused is False


def test_pause_and_resume_go_through_the_store_and_say_what_changed(
    admin_client_: Client, store: DjangoStore, site: str, clock: FakeClock
) -> None:
    save(store, name="nightly", every="15m")
    save(store, name="hourly", every="1h")
    both = job_id(site, "nightly"), job_id(site, "hourly")

    assert act(admin_client_, "pause", *both) == ["Paused: hourly, nightly."]
    assert [store.get_job(n).paused_at for n in ("nightly", "hourly")] == [NOW, NOW]
    assert store.get_job("nightly").next_run_at is None
    assert act(admin_client_, "pause", both[0]) == ["Already paused, unchanged: nightly."]

    clock.set("2026-03-01T12:07:00+00:00")
    assert act(admin_client_, "resume", both[0]) == ["Resumed: nightly."]
    resumed = store.get_job("nightly")
    # It continues from now, with no burst of the slots missed while paused.
    assert (resumed.paused_at, resumed.next_run_at) == (None, clock.now().replace(minute=15))
    assert resumed.version == 1  # pausing is not an edit of the definition
    assert store.get_job("hourly").paused is True


def test_pause_works_on_a_job_declared_in_a_file(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, JobSource.YAML, name="declared", every="1h")
    assert act(admin_client_, "pause", job_id(site, "declared")) == ["Paused: declared."]
    assert store.get_job("declared").paused is True


def test_the_run_permission_is_created_by_migrating(site: str) -> None:
    permission = Permission.objects.get(codename="run_job")
    assert (permission.content_type.app_label, permission.name) == (
        "scheduler",
        "Can run a job now",
    )
    assert user("runner", "run_job").has_perm("scheduler.run_job")
    assert not user("viewer", "view_job").has_perm("scheduler.run_job")
