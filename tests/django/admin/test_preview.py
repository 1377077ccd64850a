"""The next-runs preview the job form asks for while a schedule is typed."""

from __future__ import annotations

from django.test import Client

from scheduler.django.store import DjangoStore
from scheduler.testing import FakeClock

from .conftest import client_for, user

PREVIEW = "/admin/scheduler/job/preview/"


def runs(html: str) -> list[str]:
    """The preview's runs as shown: local time, then how far from now."""
    found = []
    for item in html.split("<li>")[1:]:
        local = item.split("</time>")[0].rsplit(">", 1)[1]
        when = item.split('"tw-relative">')[1].split("<")[0]
        found.append(f"{local} {when}")
    return found


def test_a_cron_preview_follows_the_zones_daylight_saving_rules(
    admin_client_: Client, clock: FakeClock
) -> None:
    clock.set("2026-03-27T12:00:00+00:00")
    html = admin_client_.get(
        PREVIEW, {"schedule_type": "cron", "cron": "30 2 * * *", "timezone": "Europe/Berlin"}
    ).content.decode()

    assert "At 02:30 <code>30 2 * * *</code>" in html
    assert "(Europe/Berlin)" in html
    # 02:30 does not exist on 29 March: a fixed-time job runs once, at 03:00 CEST.
    assert runs(html) == [
        "2026-03-28 02:30:00 CET in 13 h",
        "2026-03-29 03:00:00 CEST in 1 day",
        "2026-03-30 02:30:00 CEST in 2 days",
        "2026-03-31 02:30:00 CEST in 3 days",
        "2026-04-01 02:30:00 CEST in 4 days",
    ]


def test_an_interval_preview_counts_from_the_start(admin_client_: Client, clock: FakeClock) -> None:
    html = admin_client_.get(
        PREVIEW,
        {
            "schedule_type": "every",
            "every": "90m",
            "timezone": "UTC",
            "start": "2026-03-01 10:20",
            "end": "2026-03-01 14:00",
        },
    ).content.decode()
    assert "every 1h30m" in html
    assert runs(html) == [
        "2026-03-01 10:20:00 UTC in 20 min",
        "2026-03-01 11:50:00 UTC in 1 h 50 min",
        "2026-03-01 13:20:00 UTC in 3 h 20 min",
    ]


def test_a_preview_of_bad_values_names_the_field_and_why(admin_client_: Client) -> None:
    def problem(**values: str) -> str:
        html = admin_client_.get(PREVIEW, values).content.decode()
        return html.split('role="alert">')[1].split("</p>")[0]

    assert problem(schedule_type="cron", cron="61 * * * *", timezone="UTC") == (
        "<strong>Cron expression:</strong> cron expression &#x27;61 * * * *&#x27;: "
        "the minute field &#x27;61&#x27; is not valid (allowed: 0-59)"
    )
    assert problem(schedule_type="every", every="1 fortnight", timezone="UTC").startswith(
        "<strong>Every:</strong> "
    )
    assert "<strong>Time zone:</strong> unknown time zone" in problem(
        schedule_type="cron", cron="* * * * *", timezone="Nowhere/Land"
    )


def test_a_blank_schedule_is_a_prompt_not_an_error(admin_client_: Client) -> None:
    """The box opens with the add form, before anything is typed: no error then."""
    for kind, prompt in [
        ("cron", "Type a cron expression to see its next runs."),
        ("every", "Type an interval to see its next runs."),
        ("at", "Type when to run to see that run."),
    ]:
        html = admin_client_.get(
            PREVIEW, {"name": "", "schedule_type": kind, kind: "  ", "timezone": "UTC"}
        ).content.decode()
        assert 'role="alert"' not in html, kind
        assert "Enter " not in html, kind
        assert f'<p class="tw-preview-prompt">{prompt}</p>' in html


def test_the_add_form_shows_no_error_until_it_is_submitted(admin_client_: Client) -> None:
    page = admin_client_.get("/admin/scheduler/job/add/")
    assert page.status_code == 200
    assert not page.context["adminform"].form.errors
    assert "errorlist" not in page.content.decode()
    submitted = admin_client_.post(
        "/admin/scheduler/job/add/", {"schedule_type": "cron", "timezone": "UTC"}
    )
    assert "Enter a cron expression" in submitted.content.decode()


def test_a_hashed_cron_is_spread_by_the_typed_name(admin_client_: Client) -> None:
    def first(name: str) -> str:
        values = {"schedule_type": "cron", "cron": "H H * * *", "timezone": "UTC", "name": name}
        return runs(admin_client_.get(PREVIEW, values).content.decode())[0]

    assert first("report-a") == first("report-a")
    assert first("report-a") != first("report-b")


def test_a_schedule_past_its_end_says_it_will_not_run(admin_client_: Client) -> None:
    html = admin_client_.get(
        PREVIEW, {"schedule_type": "at", "at": "2026-01-01 00:00", "timezone": "UTC"}
    ).content.decode()
    assert runs(html) == []
    assert "No runs after now: the schedule or its window has ended." in html


def test_the_preview_needs_add_or_change_permission(
    site: str, store: DjangoStore, clock: FakeClock
) -> None:
    values = {"schedule_type": "every", "every": "1h", "timezone": "UTC"}
    viewer = client_for(user("viewer", "view_job"))
    assert viewer.get(PREVIEW, values).status_code == 403
    adder = client_for(user("adder", "add_job"))
    assert adder.get(PREVIEW, values).status_code == 200
    assert Client().get(PREVIEW, values).status_code == 302  # to the login page
