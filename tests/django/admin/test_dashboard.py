"""The dashboard: every figure from seeded runs, exactly, and what it costs in queries."""

from __future__ import annotations

import re

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scheduler.django.store import DjangoStore

from .conftest import NOW
from .dashboard_seed import DAY_COUNTS, seed

DASHBOARD = "/admin/scheduler/dashboard/"


def section(html: str, name: str) -> str:
    """The HTML of the dashboard's section ``name`` (``tw-health``, ``tw-failures``...)."""
    return html.split(f'id="{name}"', 1)[1].split("</section>", 1)[0]


def bar_counts(html: str) -> dict[str, int]:
    """Runs per status, summed over the stacked bars of the chart."""
    found: dict[str, int] = {}
    for status, runs in re.findall(r'data-status="(\w+)" data-runs="(\d+)"', html):
        found[status] = found.get(status, 0) + int(runs)
    return found


def cells(html: str) -> list[list[str]]:
    """The text of each cell of each body row of the first table in ``html``."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)
        ]
        for row in body.split("</tr>")[:-1]
    ]


@pytest.fixture
def seeded(store: DjangoStore, site: str) -> dict[str, int]:
    return seed(store, site, NOW)


def test_the_last_24_hours_show_each_status_count(
    admin_client_: Client, seeded: dict[str, int]
) -> None:
    page = admin_client_.get(DASHBOARD)
    html = page.content.decode()

    assert page.status_code == 200
    chart = section(html, "tw-runs")
    assert bar_counts(chart) == DAY_COUNTS
    assert "Runs over time, by status (10 runs)" in chart
    # Bars by the hour, UTC: the succeeded run an hour before NOW is in the 09:00 bar.
    assert chart.count('class="tw-bar"') == 24
    assert "2026-03-01 09:00:00 UTC: 2 succeeded" in chart
    assert "2026-03-01 05:00:00 UTC: 1 lost" in chart
    totals = chart.split("<tfoot>")[1].split("</tfoot>")[0]
    assert re.findall(r"<td>(\d+)</td>", totals) == ["5", "1", "1", "1", "1", "1"]


def test_each_window_counts_its_own_runs(admin_client_: Client, seeded: dict[str, int]) -> None:
    week = admin_client_.get(DASHBOARD + "?window=7d").content.decode()
    month = admin_client_.get(DASHBOARD + "?window=30d").content.decode()

    assert bar_counts(section(week, "tw-runs")) == {**DAY_COUNTS, "failed": 2}
    # Bars of 6 hours from 06:00 seven days back (the boundary before 10:00)
    # to the one that holds NOW: 172 hours.
    assert section(week, "tw-runs").count('class="tw-bar"') == 29
    assert "2026-03-01 06:00:00 UTC: 5 succeeded, 1 failed, 1 timed out" in week
    assert bar_counts(section(month, "tw-runs")) == {
        **DAY_COUNTS,
        "failed": 2,
        "succeeded": 5 + 60,
    }
    assert section(month, "tw-runs").count('class="tw-bar"') == 31
    assert 'aria-current="page" class="tw-period tw-period-current">30 days' in month


def test_jobs_are_listed_worst_first_with_failure_rate_and_p95(
    admin_client_: Client, seeded: dict[str, int], site: str
) -> None:
    html = admin_client_.get(DASHBOARD).content.decode()

    rows = cells(section(html, "tw-health"))
    # percentile_cont interpolates on PostgreSQL; elsewhere the nearest rank:
    # nightly's durations are 2, 5 and 30 s, hourly's 1, 2, 3 and 4 s.
    postgres = connections[site].vendor == "postgresql"
    nightly_p95, hourly_p95 = ("27.50 s", "3.85 s") if postgres else ("30.00 s", "4.00 s")
    assert rows == [
        ["nightly", "3", "2", "67 %", nightly_p95],
        ["hourly", "5", "1", "20 %", hourly_p95],
    ]
    assert f'href="/admin/scheduler/job/{seeded["nightly"]}/change/"' in section(html, "tw-health")


def test_lateness_percentiles(admin_client_: Client, seeded: dict[str, int]) -> None:
    html = admin_client_.get(DASHBOARD).content.decode()

    lateness = section(html, "tw-lateness")
    assert '<dd id="tw-lateness-p50">2.00 s</dd>' in lateness
    assert '<dd id="tw-lateness-p99">9.00 s</dd>' in lateness


def test_latest_failures_show_the_first_line_of_the_error(
    admin_client_: Client, seeded: dict[str, int]
) -> None:
    day = cells(section(admin_client_.get(DASHBOARD).content.decode(), "tw-failures"))
    week = cells(
        section(admin_client_.get(DASHBOARD + "?window=7d").content.decode(), "tw-failures")
    )

    # One line per job, its latest failure; nightly's failed and timed-out runs
    # were written before hourly's lost one.
    assert day == [
        ["hourly", "2026-03-01 05:00:00 UTC", "lost", "its replica stopped"],
        ["nightly", "2026-03-01 07:00:00 UTC", "timed out", "(no error recorded)"],
    ]
    assert [row[0] for row in week] == ["hourly", "nightly"]


def test_replicas_with_their_last_heartbeat(admin_client_: Client, seeded: dict[str, int]) -> None:
    rows = cells(section(admin_client_.get(DASHBOARD).content.decode(), "tw-replicas"))

    assert rows == [["web-1:42", "web-1 (pid 42)", "2026-03-01 10:00:00 UTC now", "alive"]]


def test_the_timeline_draws_a_tick_per_slot_of_the_next_24_hours(
    admin_client_: Client, seeded: dict[str, int]
) -> None:
    html = section(admin_client_.get(DASHBOARD).content.decode(), "tw-upcoming")

    rows = dict(re.findall(r'data-job="([\w-]+)" data-slots="(\d+)"', html))
    # Soonest first; the paused and the disabled job are left out.
    # 11:00 to 09:00 the next day (10:00 is 24 hours away: not in the horizon);
    # every-10m has 143 slots, of which 24 are drawn.
    assert rows == {"every-10m": "24", "hourly": "23", "nightly": "1"}
    strokes = re.findall(r'<path class="tw-tick" d="([^"]+)"', html)
    assert [path.count("M") for path in strokes] == [24, 23, 1]
    table = cells(html.split('id="tw-timeline-table"')[1])
    assert table == [
        ["every-10m", "24 or more", "2026-03-01 10:10:00 UTC"],
        ["hourly", "23", "2026-03-01 11:00:00 UTC"],
        ["nightly", "1", "2026-03-02 02:30:00 UTC"],
    ]


def test_the_timeline_caps_its_rows_and_says_how_many_more(
    admin_client_: Client, store: DjangoStore
) -> None:
    from scheduler.django.admin.dashboard.timeline import ROWS_SHOWN
    from scheduler.model.jobs import JobSpec

    specs = [
        JobSpec.build(name=f"job-{n:02d}", task="tests.django.testapp.tasks.ping", every="1h")
        for n in range(ROWS_SHOWN + 3)
    ]
    for spec in specs:
        store.save_job(spec, now=NOW)

    html = section(admin_client_.get(DASHBOARD).content.decode(), "tw-upcoming")

    assert html.count('class="tw-timeline-row"') == ROWS_SHOWN
    assert (
        '<p class="tw-more" id="tw-timeline-more">and 3 more jobs due in the next 24 hours</p>'
        in html
    )


def test_an_unknown_window_is_refused_with_the_choices(admin_client_: Client) -> None:
    page = admin_client_.get(DASHBOARD + "?window=3d")

    assert page.status_code == 400
    assert page.content.decode() == (
        "window: '3d' is not a window the dashboard shows; choose one of 24h, 7d, 30d"
    )


def test_the_page_costs_a_fixed_number_of_queries(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    """Under 25 queries, on both databases, and as many for many jobs as for a few."""

    def count() -> int:
        with (
            CaptureQueriesContext(connections[site]) as scheduler,
            CaptureQueriesContext(connections["default"]) as default,
        ):
            assert admin_client_.get(DASHBOARD).status_code == 200
        both = {id(scheduler): scheduler, id(default): default}  # one, if site is default
        return sum(len(captured) for captured in both.values())

    seed(store, site, NOW)
    few = count()
    from scheduler.model.jobs import JobSpec

    for n in range(40):
        store.save_job(
            JobSpec.build(name=f"more-{n}", task="tests.django.testapp.tasks.ping", every="1h"),
            now=NOW,
        )
    assert count() == few
    assert few < 25


def test_the_dashboard_is_linked_from_the_app_index_and_the_job_list(admin_client_: Client) -> None:
    index = admin_client_.get("/admin/scheduler/").content.decode()
    jobs = admin_client_.get("/admin/scheduler/job/").content.decode()

    assert f'href="{DASHBOARD}"' in index
    assert f'<a href="{DASHBOARD}" class="tw-dashboard-link">Dashboard</a>' in jobs


def test_the_charts_are_accessible_and_need_no_script(
    admin_client_: Client, seeded: dict[str, int]
) -> None:
    html = admin_client_.get(DASHBOARD).content.decode()

    for key in ("tw-runs-chart", "tw-timeline"):
        svg = html.split(f'<svg class="tw-chart" id="{key}"')[1].split("</svg>")[0]
        assert 'role="img"' in svg
        assert f'aria-labelledby="{key}-title {key}-desc"' in svg
        assert f'<title id="{key}-title">' in svg
        assert f'<desc id="{key}-desc">' in svg
    assert '<desc id="tw-runs-chart-desc">10 runs in 24 bars of one hour' in html
    # Colour plus a pattern: every stacked segment is drawn twice, colour then
    # pattern: 9 segments, as the 09:00 bar's two succeeded runs are one; succeeded
    # runs are in four bars, 06:00 to 09:00.
    chart = html.split('id="tw-runs-chart"')[1].split("</svg>")[0]
    assert chart.count('<rect class="tw-fill tw-st-') == 9
    for status in DAY_COUNTS:
        assert chart.count(f'<rect class="tw-pattern" fill="url(#tw-runs-pattern-{status})"') == (
            4 if status == "succeeded" else 1
        )
        assert f'<pattern id="tw-runs-pattern-{status}"' in chart
    assert "<script" not in html.split('id="content-main"')[1]


def test_percentiles_read_each_jobs_latest_runs_only(
    admin_client_: Client, seeded: dict[str, int], site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 2 for RECENT: nightly's latest two durations are 2 and 5 s, hourly's 1 and 2 s."""
    from scheduler.django.admin.dashboard import percentiles

    monkeypatch.setattr(percentiles, "RECENT", 2)

    rows = cells(section(admin_client_.get(DASHBOARD).content.decode(), "tw-health"))

    postgres = connections[site].vendor == "postgresql"
    expected = ["4.85 s", "1.95 s"] if postgres else ["5.00 s", "2.00 s"]
    assert [row[4] for row in rows] == expected
