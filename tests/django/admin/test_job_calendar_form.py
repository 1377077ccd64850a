"""The job form's calendar fields: excluded days, public holidays, business days."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from scheduler.django.models import Job
from scheduler.django.store import DjangoStore
from scheduler.model.policies import JobSource
from scheduler.schedules.calendars import Calendar, DateRange, Holidays, OnExcluded
from scheduler.testing import FakeClock

from .conftest import save
from .test_job_form import ADD, change_url, posted

PREVIEW = "/admin/scheduler/job/preview/"
# 1 March 2026 (the tests' now) is a Sunday; 2 and 3 March are excluded below.
BAVARIA = Calendar(
    exclude=(DateRange.parse("2026-03-02..2026-03-03"),),
    holidays=Holidays("DE", "BY"),
    business_days=True,
    on_excluded=OnExcluded.NEXT_BUSINESS_DAY,
)


def test_a_new_job_keeps_its_calendar_and_its_first_slot_follows_it(
    admin_client_: Client, store: DjangoStore
) -> None:
    response = admin_client_.post(
        ADD,
        posted(
            exclude="2026-03-02..2026-03-03",
            holidays="de-by",
            business_days="on",
            on_excluded="next_business_day",
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = store.get_job("nightly")
    assert stored.spec.calendar == BAVARIA
    # Monday's and Tuesday's 02:30 move to Wednesday 02:30, one slot.
    assert stored.next_run_at == datetime(2026, 3, 4, 1, 30, tzinfo=UTC)


def test_a_change_form_shows_the_stored_calendar_and_saving_it_keeps_it(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="nightly", cron="30 2 * * *", timezone="Europe/Berlin", calendar=BAVARIA)
    url = change_url(site, "nightly")
    form = admin_client_.get(url).context["adminform"].form
    shown = {key: form[key].value() for key in ("exclude", "holidays", "on_excluded")}
    assert shown == {
        "exclude": "2026-03-02..2026-03-03",
        "holidays": "DE-BY",
        "on_excluded": "next_business_day",
    }
    assert form["business_days"].value() is True

    response = admin_client_.post(url, posted(**_as_posted(form)))

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert store.get_job("nightly").spec.calendar == BAVARIA


def test_clearing_the_fields_removes_the_calendar(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, name="nightly", cron="30 2 * * *", timezone="Europe/Berlin", calendar=BAVARIA)
    response = admin_client_.post(change_url(site, "nightly"), posted())
    assert response.status_code == 302, response.context["adminform"].form.errors
    changed = store.get_job("nightly")
    assert changed.spec.calendar.is_default
    assert changed.next_run_at == datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        pytest.param(
            {"exclude": "2026-12-24..2026-12-01"},
            "exclude",
            "the range 2026-12-24..2026-12-01 ends before it starts",
            id="reversed-range",
        ),
        pytest.param(
            {"exclude": "Christmas"},
            "exclude",
            "expected a date such as 2026-12-24",
            id="not-a-date",
        ),
        pytest.param({"holidays": "XX"}, "holidays", "unknown holiday calendar", id="country"),
        pytest.param(
            {"holidays": "DE-ZZ"}, "holidays", "subdivision 'ZZ' of country 'DE'", id="subdivision"
        ),
        pytest.param(
            {"schedule_type": "at", "at": "2026-05-01 09:00", "business_days": "on"},
            "exclude",
            "a one-off job ('at') runs at its instant",
            id="one-off",
        ),
    ],
)
def test_a_wrong_calendar_is_refused_on_its_field_and_changes_nothing(
    admin_client_: Client, site: str, changes: dict[str, str], field: str, says: str
) -> None:
    response = admin_client_.post(ADD, posted(**changes))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert says in " ".join(errors[field])
    assert not Job.objects.using(site).exists()


def test_the_preview_skips_excluded_days_and_says_why(
    admin_client_: Client, clock: FakeClock
) -> None:
    clock.set("2026-12-23T12:00:00+00:00")
    html = admin_client_.get(
        PREVIEW,
        {
            "schedule_type": "cron",
            "cron": "0 9 * * *",
            "timezone": "Europe/Berlin",
            "holidays": "DE-BY",
            "business_days": "on",
        },
    ).content.decode()

    assert "At 09:00, business days in DE-BY" in html
    assert [item.split("</time>")[0].rsplit(">", 1)[1] for item in html.split("<li>")[1:3]] == [
        "2026-12-24 09:00:00 CET",
        "2026-12-28 09:00:00 CET",
    ]
    notes = [note.split("<")[0] for note in html.split('class="tw-preview-note">')[1:]]
    assert notes[:3] == [
        "Left out 2026-12-25 09:00:00 CET: public holiday in DE-BY: Christmas Day.",
        "Left out 2026-12-26 09:00:00 CET: public holiday in DE-BY: Second Day of Christmas.",
        "Left out 2026-12-27 09:00:00 CET: not a business day (Sunday).",
    ]


def test_the_preview_refuses_a_calendar_on_a_one_off_job(admin_client_: Client) -> None:
    html = admin_client_.get(
        PREVIEW,
        {"schedule_type": "at", "at": "2026-05-01 09:00", "timezone": "UTC", "holidays": "US"},
    ).content.decode()
    assert "Excluded days" in html
    assert "A one-off job runs at its instant" in html


def test_a_file_jobs_page_spells_out_its_calendar(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    calendar = Calendar(business_days=True, name="company")
    save(store, JobSource.YAML, name="payroll", cron="0 9 * * *", calendar=calendar)
    page = admin_client_.get(change_url(site, "payroll")).content.decode()
    assert "At 09:00, company: business days" in page
    listed = admin_client_.get("/admin/scheduler/job/").content.decode()
    assert "company: business days" in listed


def _as_posted(form: Any) -> dict[str, str]:
    """The calendar fields of an opened form, as the browser posts them back."""
    values = {key: str(form[key].value() or "") for key in ("exclude", "holidays", "on_excluded")}
    if form["business_days"].value():
        values["business_days"] = "on"
    return values
