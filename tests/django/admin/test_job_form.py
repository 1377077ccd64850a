"""The job form: saving through the store, every kind of bad input refused where it
belongs, and jobs from a schedules file shown read-only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from scheduler.django.models import Job
from scheduler.django.store import DjangoStore
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import CatchupPolicy, JobSource, OverlapPolicy
from scheduler.testing import FakeClock

from .conftest import NOW, PING, REPORT, client_for, save, user

ADD = "/admin/scheduler/job/add/"


def posted(**changes: str) -> dict[str, str]:
    """The add form as a browser posts it, filled in, with ``changes``."""
    data = {
        "name": "nightly",
        "task": PING,
        "description": "",
        "schedule_type": "cron",
        "cron": "30 2 * * *",
        "every": "",
        "at": "",
        "timezone": "Europe/Berlin",
        "enabled": "on",
        "start": "",
        "end": "",
        "args": "[]",
        "kwargs": "{}",
        "catchup": "once",
        "max_catchup": "100",
        "catchup_window": "",
        "overlap": "skip",
        "jitter": "0s",
        "timeout": "",
        "retries": "0",
        "retry_backoff": "10s",
        "retry_backoff_max": "1h",
        "executor": "default",
        "queue": "",
        "_save": "Save",
    }
    return {**data, **changes}


def change_url(site: str, name: str) -> str:
    return f"/admin/scheduler/job/{Job.objects.using(site).get(name=name).pk}/change/"


def test_a_new_job_is_stored_through_the_store_with_its_first_slot(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    response = admin_client_.post(
        ADD,
        posted(
            args='[1, "a"]',
            kwargs='{"format": "pdf"}',
            catchup="all",
            catchup_window="6h",
            overlap="queue",
            jitter="30s",
            timeout="10m",
            retries="2",
            description="The nightly report",
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = store.get_job("nightly")
    expected = JobSpec.build(
        name="nightly",
        task=PING,
        cron="30 2 * * *",
        timezone="Europe/Berlin",
        args=(1, "a"),
        kwargs={"format": "pdf"},
        catchup=CatchupPolicy.ALL,
        catchup_window="6h",
        overlap=OverlapPolicy.QUEUE,
        jitter="30s",
        timeout="10m",
        retries=2,
        description="The nightly report",
        source=JobSource.ADMIN,
    )
    assert stored.spec == expected
    assert (stored.version, stored.definition_hash) == (1, expected.definition_hash())
    assert stored.next_run_at == datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 02:30 in Berlin
    assert stored.created_at == NOW


def test_the_saved_job_page_shows_its_next_five_runs_in_its_zone(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="nightly", cron="30 2 * * *", timezone="Europe/Berlin")
    page = admin_client_.get(change_url(site, "nightly")).content.decode()
    preview = page.split('id="tw-preview"')[1].split("</fieldset>")[0]
    assert "At 02:30 <code>30 2 * * *</code>" in preview
    assert [line.split(">")[1] for line in preview.split("<time ")[1:]] == [
        f"2026-03-0{day} 02:30:00 CET</time" for day in range(2, 7)
    ]
    assert "in 15 h" in preview
    assert "No runs yet." in page


def test_a_changed_definition_gets_a_new_version_and_next_slot(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="nightly", cron="30 2 * * *", timezone="Europe/Berlin")
    url = change_url(site, "nightly")
    form = admin_client_.get(url).context["adminform"].form
    assert (form["cron"].value(), form["timezone"].value(), form["name"].value()) == (
        "30 2 * * *",
        "Europe/Berlin",
        "nightly",
    )

    response = admin_client_.post(url, posted(name="renamed", cron="0 12 * * *"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(Job.objects.using(site).values_list("name", flat=True)) == ["nightly"]
    changed = store.get_job("nightly")
    assert changed.spec.schedule.expr == "0 12 * * *"  # type: ignore[union-attr]
    assert changed.version == 2
    assert changed.next_run_at == datetime(2026, 3, 1, 11, tzinfo=UTC)  # noon in Berlin


def test_an_instant_without_offset_is_read_in_the_jobs_zone(
    admin_client_: Client, store: DjangoStore
) -> None:
    admin_client_.post(ADD, posted(name="berlin", schedule_type="at", at="2026-05-01 09:00"))
    admin_client_.post(ADD, posted(name="utc", schedule_type="at", at="2026-05-01T09:00:00+00:00"))
    assert store.get_job("berlin").next_run_at == datetime(2026, 5, 1, 7, tzinfo=UTC)
    assert store.get_job("utc").next_run_at == datetime(2026, 5, 1, 9, tzinfo=UTC)


BAD_INPUT = [
    pytest.param({"cron": "61 * * * *"}, "cron", "the minute field '61' is not valid", id="cron"),
    pytest.param({"cron": ""}, "cron", "Enter a cron expression", id="no-cron"),
    pytest.param(
        {"schedule_type": "every", "every": "15x"},
        "every",
        "expected a duration such as '90s'",
        id="interval",
    ),
    pytest.param({"args": "[1,"}, "args", "not valid JSON: Expecting value", id="json"),
    pytest.param({"args": '{"a": 1}'}, "args", "expected a JSON list", id="args-object"),
    pytest.param({"kwargs": "[1]"}, "kwargs", "expected a JSON object", id="kwargs-list"),
    pytest.param(
        {"task": "os.system"}, "task", "os.system is not a task this site registered", id="task"
    ),
    pytest.param(
        {"task": REPORT, "kwargs": '{"context": 1}'},
        "kwargs",
        "'context' is reserved",
        id="context-kwarg",
    ),
    pytest.param(
        {"timezone": "Mars/Olympus"}, "timezone", "unknown time zone 'Mars/Olympus'", id="zone"
    ),
    pytest.param(
        {"schedule_type": "at", "at": "2026-02-30 09:00"},
        "at",
        "'2026-02-30 09:00' is not a date and time",
        id="date",
    ),
    pytest.param(
        {"schedule_type": "at", "at": "2026-03-29 02:30"},
        "at",
        "2026-03-29 02:30 does not exist in Europe/Berlin (the clocks skip it)",
        id="spring-gap",
    ),
    pytest.param(
        {"schedule_type": "at", "at": "2026-10-25 02:30"},
        "at",
        "happens twice in Europe/Berlin (the clocks go back): give the offset you mean, "
        "2026-10-25 02:30+02:00 or 2026-10-25 02:30+01:00",
        id="autumn-fold",
    ),
    pytest.param(
        {"start": "2026-05-01 00:00", "end": "2026-04-01 00:00"},
        "end",
        "The end must be after the start.",
        id="window",
    ),
    pytest.param({"name": "two words"}, "name", "expected 1-200 characters", id="name"),
    pytest.param({"jitter": "-5s"}, "jitter", "expected a duration of zero or more", id="jitter"),
    pytest.param({"max_catchup": "0"}, "max_catchup", "greater than or equal to 1", id="count"),
    pytest.param({"executor": "nope"}, "executor", "Select a valid choice", id="executor"),
    pytest.param(
        {"max_memory": "lots"}, "max_memory", "expected a size in bytes such as '512M'", id="memory"
    ),
]


@pytest.mark.parametrize(("changes", "field", "says"), BAD_INPUT)
def test_bad_input_is_shown_on_its_field_and_changes_nothing(
    admin_client_: Client, site: str, changes: dict[str, str], field: str, says: str
) -> None:
    response = admin_client_.post(ADD, posted(**changes))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert says in " ".join(errors[field])
    assert says.split(" (")[0] in response.content.decode().replace("&#x27;", "'")
    assert not Job.objects.using(site).exists()


def test_a_name_taken_by_a_file_job_is_refused(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, JobSource.YAML, name="nightly", every="1h")
    response = admin_client_.post(ADD, posted())
    errors = response.context["adminform"].form.errors
    assert errors == {"name": ["A job called 'nightly' already exists (source: yaml)."]}
    assert store.get_job("nightly").spec.source is JobSource.YAML


def test_bad_input_on_a_change_leaves_the_stored_job_as_it_was(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="nightly", cron="30 2 * * *", timezone="Europe/Berlin")
    before = store.get_job("nightly")
    response = admin_client_.post(change_url(site, "nightly"), posted(cron="30 2 * *"))
    assert "has 4 fields" in " ".join(response.context["adminform"].form.errors["cron"])
    assert store.get_job("nightly") == before


def test_the_task_is_a_choice_of_registered_tasks(admin_client_: Client) -> None:
    field = admin_client_.get(ADD).context["adminform"].form.fields["task"]
    groups: list[tuple[str, Any]] = list(field.choices)
    registered = dict(groups)["Registered with @job"]
    assert (PING, PING) in registered
    assert (REPORT, REPORT) in registered
    assert all("." in value for _, choices in groups for value, _ in choices)
    assert not any(value.startswith("os.") for _, choices in groups for value, _ in choices)


def test_allow_listed_modules_offer_their_own_public_functions(
    admin_client_: Client, settings: Any
) -> None:
    settings.SCHEDULER = {**settings.SCHEDULER, "TASKS": ["tests.django.admin.allowed.*"]}
    groups = dict(admin_client_.get(ADD).context["adminform"].form.fields["task"].choices)
    assert groups["Allow-listed in SCHEDULER['TASKS']"] == [
        ("tests.django.admin.allowed.cleanup", "tests.django.admin.allowed.cleanup")
    ]


def test_a_job_from_the_schedules_file_is_read_only_with_a_note_naming_the_file(
    admin_client_: Client, store: DjangoStore, site: str, settings: Any
) -> None:
    save(store, JobSource.YAML, name="declared", cron="0 6 * * *", timezone="Europe/Berlin")
    url = change_url(site, "declared")

    page = admin_client_.get(url).content.decode()

    path = settings.SCHEDULER["SCHEDULES"]
    assert f"Declared in {path} (SCHEDULER[&#x27;SCHEDULES&#x27;]): read-only here." in page
    assert 'name="cron"' not in page
    assert 'name="_save"' not in page
    assert "At 06:00 <code>0 6 * * *</code>" in page  # the preview, from the stored schedule
    assert admin_client_.post(url, posted(name="declared", cron="* * * * *")).status_code == 403
    assert store.get_job("declared").version == 1


def test_a_job_removed_from_the_file_says_so_and_when(
    admin_client_: Client, store: DjangoStore, site: str, clock: FakeClock
) -> None:
    save(store, JobSource.YAML, name="gone", every="1h")
    store.sync_jobs([], source=JobSource.YAML, now=datetime(2026, 2, 27, 9, tzinfo=UTC))

    page = admin_client_.get(change_url(site, "gone")).content.decode()

    assert "Removed from " in page
    assert " on 2026-02-27 09:00:00 UTC: the file no longer declares it" in page
    assert '<span class="tw-state tw-state-removed">removed</span>' in page


def test_jobs_a_file_declares_cannot_be_deleted_here(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="mine")
    save(store, JobSource.YAML, name="declared", every="1h")
    jobs = dict(Job.objects.using(site).values_list("name", "pk"))

    def delete(*names: str) -> int:
        selected = [str(jobs[name]) for name in names]
        data = {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
        return admin_client_.post("/admin/scheduler/job/", data).status_code

    delete_page = change_url(site, "declared").replace("/change/", "/delete/")
    assert admin_client_.post(delete_page, {"post": "yes"}).status_code == 403
    assert delete("mine", "declared") == 403  # Django refuses the whole selection
    assert Job.objects.using(site).count() == 2
    assert delete("mine") == 302
    assert list(Job.objects.using(site).values_list("name", flat=True)) == ["declared"]


def test_a_job_whose_task_is_gone_shows_it_and_cannot_be_saved_until_changed(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="nightly", task="tests.django.testapp.tasks.renamed_long_ago")
    url = change_url(site, "nightly")
    form = admin_client_.get(url).context["adminform"].form
    assert form["task"].value() == "tests.django.testapp.tasks.renamed_long_ago"

    response = admin_client_.post(url, posted(task="tests.django.testapp.tasks.renamed_long_ago"))
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["task"]
    assert "'tests.django.testapp.tasks.renamed_long_ago' is not registered" in errors["task"][0]
    assert store.get_job("nightly").version == 1

    assert admin_client_.post(url, posted(task=PING)).status_code == 302
    assert store.get_job("nightly").spec.task == PING


def test_a_user_who_may_only_view_sees_the_job_spelled_out_not_a_form(
    site: str, store: DjangoStore, clock: FakeClock
) -> None:
    save(store, name="nightly", cron="30 2 * * *", timezone="Europe/Berlin", args=(1,))
    viewer = client_for(user("viewer", "view_job"))

    page = viewer.get(change_url(site, "nightly")).content.decode()

    assert 'name="cron"' not in page
    assert "At 02:30" in page
    assert "args [1]" in page
    assert "catch-up once (at most 100); overlap skip" in page
    assert "data-url=" not in page  # no live preview without a form
    assert "2026-03-02 02:30:00 CET" in page  # the next runs, from the stored schedule


# -- two editors ----------------------------------------------------------------
def test_the_form_carries_the_version_it_was_opened_on(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="nightly", cron="30 2 * * *")
    store.save_job(replace(store.get_job("nightly").spec, description="v2"), now=NOW)
    page = admin_client_.get(change_url(site, "nightly")).content.decode()
    assert 'type="hidden" name="base_version" value="2"' in page
    assert 'name="base_version" value="0"' in admin_client_.get(ADD).content.decode()


def test_a_change_based_on_an_old_version_is_refused_and_changes_nothing(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="nightly", cron="30 2 * * *", timezone="Europe/Berlin")
    url = change_url(site, "nightly")
    # Both editors open version 1; the other one saves first.
    store.save_job(replace(store.get_job("nightly").spec, description="theirs"), now=NOW)
    theirs = store.get_job("nightly")

    response = admin_client_.post(url, posted(cron="0 12 * * *", base_version="1"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert len(errors) == 1
    assert "Someone else saved this job while you were editing it" in errors[0]
    assert "you opened version 1; it is now at version 2" in errors[0]
    assert "Someone else saved this job" in response.content.decode()
    assert store.get_job("nightly") == theirs


def test_a_change_based_on_the_stored_version_is_saved(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="nightly", cron="30 2 * * *", timezone="Europe/Berlin")
    response = admin_client_.post(
        change_url(site, "nightly"), posted(cron="0 12 * * *", base_version="1")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert store.get_job("nightly").version == 2


def test_a_save_that_loses_the_race_after_the_form_check_changes_nothing(
    admin_client_: Client, store: DjangoStore, site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other editor commits between the form's check and the store's write:
    the store refuses (it compares versions under the row lock) and the page
    says so."""
    from scheduler.django.admin.forms import JobForm

    save(store, name="nightly", cron="30 2 * * *", timezone="Europe/Berlin")
    store.save_job(replace(store.get_job("nightly").spec, description="theirs"), now=NOW)
    theirs = store.get_job("nightly")
    monkeypatch.setattr(JobForm, "_check_base_version", lambda self, base: None)
    url = change_url(site, "nightly")

    response = admin_client_.post(url, posted(cron="0 12 * * *", base_version="1"), follow=True)

    assert response.redirect_chain == [(url, 302)]
    shown = [str(message) for message in response.context["messages"]]
    assert shown == [
        "Not saved: job 'nightly' was changed by someone else meanwhile: it is at version 2, "
        "this change was based on version 1; nothing was saved. The page now shows the job "
        "as stored; make your changes again."
    ]
    assert store.get_job("nightly") == theirs


def test_a_memory_limit_is_stored_in_bytes_and_shown_back_as_typed(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    response = admin_client_.post(ADD, posted(max_memory="512M"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert store.get_job("nightly").spec.policy.max_memory == 512 * 1024**2
    page = admin_client_.get(change_url(site, "nightly"))
    assert page.context["adminform"].form.initial["max_memory"] == "512M"
