"""Shared calendars: written once in the admin, chosen by many jobs, kept in step."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from scheduler.django.models import Job, SharedCalendar
from scheduler.django.store import DjangoStore
from scheduler.schedules.calendars import Calendar, DateRange, Holidays
from scheduler.testing import FakeClock

from .conftest import client_for, user
from .test_job_form import ADD, change_url, posted

CALENDARS = "/admin/scheduler/sharedcalendar/"
# The tests' now is Sunday 1 March 2026; 2 and 3 March are excluded.
COMPANY = Calendar(
    exclude=(DateRange.parse("2026-03-02..2026-03-03"),),
    holidays=Holidays("DE", "BY"),
    business_days=True,
    name="company",
)


def calendar_posted(**changes: str) -> dict[str, str]:
    data = {
        "name": "company",
        "description": "Our offices' closing days",
        "exclude": "2026-03-02..2026-03-03",
        "holidays": "DE-BY",
        "business_days": "on",
        "on_excluded": "skip",
        "_save": "Save",
    }
    return {**data, **changes}


def add_company(client: Client) -> None:
    response = client.post(f"{CALENDARS}add/", calendar_posted())
    assert response.status_code == 302, response.context["adminform"].form.errors


def test_a_shared_calendar_is_stored_on_the_schedulers_database(
    admin_client_: Client, site: str
) -> None:
    add_company(admin_client_)
    row = SharedCalendar.objects.using(site).get()
    assert (row.name, row.exclude, row.holidays, row.business_days) == (
        "company",
        "2026-03-02..2026-03-03",
        "DE-BY",
        True,
    )
    listed = admin_client_.get(CALENDARS).content.decode()
    assert "business days in DE-BY; except 2026-03-02..2026-03-03" in listed
    assert "no job" in listed


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"exclude": "2026-03-09..2026-03-01"}, "exclude", "ends before it starts"),
        ({"holidays": "ZZ"}, "holidays", "unknown holiday calendar"),
        ({"name": "two words"}, "name", "expected 1-200 characters"),
        (
            {"exclude": "", "holidays": "", "business_days": ""},
            "__all__",
            "A calendar must leave out some days",
        ),
    ],
)
def test_a_wrong_shared_calendar_is_refused_and_nothing_is_stored(
    admin_client_: Client, site: str, changes: dict[str, str], field: str, says: str
) -> None:
    response = admin_client_.post(f"{CALENDARS}add/", calendar_posted(**changes))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert says in " ".join(errors[field])
    assert not SharedCalendar.objects.using(site).exists()


def test_a_job_chooses_a_shared_calendar_and_keeps_its_days_named_after_it(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    add_company(admin_client_)
    response = admin_client_.post(ADD, posted(shared_calendar="company"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = store.get_job("nightly")
    assert stored.spec.calendar == COMPANY
    assert stored.next_run_at == datetime(2026, 3, 4, 1, 30, tzinfo=UTC)  # Wednesday 02:30

    form = admin_client_.get(change_url(site, "nightly")).context["adminform"].form
    assert form["shared_calendar"].value() == "company"
    assert (form["exclude"].value(), form["holidays"].value()) == (None, None)


def test_a_shared_calendar_and_days_of_the_jobs_own_are_refused_together(
    admin_client_: Client, site: str
) -> None:
    add_company(admin_client_)
    response = admin_client_.post(ADD, posted(shared_calendar="company", exclude="2026-12-24"))
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["shared_calendar"]
    assert "not both" in errors["shared_calendar"][0]
    assert not Job.objects.using(site).exists()


def test_changing_a_shared_calendar_rewrites_the_jobs_that_use_it(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    add_company(admin_client_)
    for name in ("nightly", "payroll"):
        response = admin_client_.post(ADD, posted(name=name, shared_calendar="company"))
        assert response.status_code == 302
    admin_client_.post(ADD, posted(name="plain"))
    row = SharedCalendar.objects.using(site).get()

    response = admin_client_.post(
        f"{CALENDARS}{row.pk}/change/",
        calendar_posted(exclude="2026-03-02..2026-03-05"),
        follow=True,
    )

    assert "written into 2 job(s), whose next runs follow them now: nightly, payroll" in (
        response.content.decode()
    )
    for name in ("nightly", "payroll"):
        job = store.get_job(name)
        assert job.version == 2
        assert job.spec.calendar.exclude == (DateRange.parse("2026-03-02..2026-03-05"),)
        assert job.next_run_at == datetime(2026, 3, 6, 1, 30, tzinfo=UTC)  # Friday 02:30
    assert store.get_job("plain").version == 1


def test_a_shared_calendar_in_use_cannot_be_deleted(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    add_company(admin_client_)
    admin_client_.post(f"{CALENDARS}add/", calendar_posted(name="unused"))
    admin_client_.post(ADD, posted(shared_calendar="company"))
    used = SharedCalendar.objects.using(site).get(name="company")

    page = admin_client_.post(f"{CALENDARS}{used.pk}/delete/", {"post": "yes"})
    assert "Job: nightly (uses company)" in page.content.decode()
    everything = [str(row.pk) for row in SharedCalendar.objects.using(site)]
    listed = admin_client_.post(
        CALENDARS, {"action": "delete_selected", "_selected_action": everything, "post": "yes"}
    )
    assert "Job: nightly (uses company)" in listed.content.decode()
    assert SharedCalendar.objects.using(site).count() == 2
    assert store.get_job("nightly").spec.calendar == COMPANY

    unused = SharedCalendar.objects.using(site).get(name="unused")
    response = admin_client_.post(f"{CALENDARS}{unused.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert list(SharedCalendar.objects.using(site).values_list("name", flat=True)) == ["company"]


def test_the_preview_follows_a_shared_calendar(admin_client_: Client, clock: FakeClock) -> None:
    add_company(admin_client_)
    html = admin_client_.get(
        "/admin/scheduler/job/preview/",
        {
            "schedule_type": "cron",
            "cron": "30 2 * * *",
            "timezone": "Europe/Berlin",
            "shared_calendar": "company",
        },
    ).content.decode()
    assert "At 02:30, company: business days in DE-BY" in html
    assert "Left out 2026-03-02 02:30:00 CET: excluded by 2026-03-02..2026-03-03." in html


def test_a_user_who_may_only_view_cannot_change_a_shared_calendar(
    admin_client_: Client, site: str
) -> None:
    add_company(admin_client_)
    row = SharedCalendar.objects.using(site).get()
    viewer = client_for(user("viewer", "view_sharedcalendar"))
    assert viewer.get(CALENDARS).status_code == 200
    response = viewer.post(f"{CALENDARS}{row.pk}/change/", calendar_posted(exclude=""))
    assert response.status_code == 403
    assert SharedCalendar.objects.using(site).get().exclude == "2026-03-02..2026-03-03"


def test_the_list_reads_who_uses_each_calendar_once_for_the_page(
    admin_client_: Client, site: str
) -> None:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    for name in ("company", "plant", "office"):
        admin_client_.post(f"{CALENDARS}add/", calendar_posted(name=name))
        admin_client_.post(ADD, posted(name=f"job-{name}", shared_calendar=name))
    with CaptureQueriesContext(connections[site]) as queries:
        page = admin_client_.get(CALENDARS).content.decode()
    assert "job-plant" in page and "job-office" in page
    reads = [query["sql"] for query in queries.captured_queries if "scheduler_job" in query["sql"]]
    assert len(reads) == 1
