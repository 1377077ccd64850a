"""A job's page: its last 50 runs as a strip of marks, and the durations of its last 200."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from scheduler.django.models import Job, Run
from scheduler.django.store import DjangoStore
from scheduler.model.policies import JobSource
from scheduler.testing import FakeClock

from .conftest import NOW, client_for, save, user

RUNS = 230


@pytest.fixture
def job(store: DjangoStore, site: str, clock: FakeClock) -> Job:
    """A job with 230 runs a minute apart, oldest first (run ``i`` of 0..229):
    every tenth (``i % 10 == 0``) failed, every tenth from the fifth skipped
    (no duration), the rest succeeded; each ran ``1 + i % 7`` seconds."""
    save(store, name="report", every="1m", source=JobSource.YAML)
    found = Job.objects.using(site).get(name="report")

    def status(i: int) -> str:
        return {0: "failed", 5: "skipped"}.get(i % 10, "succeeded")

    runs = []
    for i in range(RUNS):
        slot = NOW - timedelta(minutes=RUNS - i)
        timed = status(i) != "skipped"
        runs.append(
            Run(
                job=found,
                scheduled_for=slot,
                due_at=slot,
                attempt=1,
                trigger="schedule",
                status=status(i),
                started_at=slot if timed else None,
                finished_at=slot + timedelta(seconds=1 + i % 7) if timed else None,
                duration_seconds=float(1 + i % 7) if timed else None,
            )
        )
    Run.objects.using(site).bulk_create(runs)
    return found


def svg(html: str, key: str) -> str:
    return html.split(f'<svg class="tw-chart" id="{key}"')[1].split("</svg>")[0]


def test_the_strip_marks_the_last_50_runs_each_linking_to_its_page(
    admin_client_: Client, job: Job, site: str
) -> None:
    html = admin_client_.get(f"/admin/scheduler/job/{job.pk}/change/").content.decode()

    strip = svg(html, "tw-strip")
    statuses = re.findall(r'class="tw-strip-run" data-status="(\w+)"', strip)
    # Runs 180 to 229, oldest first: 5 failed (180, 190...), 5 skipped (185...).
    assert len(statuses) == 50
    assert {s: statuses.count(s) for s in set(statuses)} == {
        "succeeded": 40,
        "failed": 5,
        "skipped": 5,
    }
    assert statuses[0] == "failed"
    assert statuses[5] == "skipped"
    ids = Run.objects.using(site).order_by("scheduled_for").values_list("id", flat=True)
    links = re.findall(r'<a href="/admin/scheduler/run/(\d+)/change/" class="tw-strip-run"', strip)
    assert [int(pk) for pk in links] == list(ids)[RUNS - 50 :]
    assert '<desc id="tw-strip-desc">5 failed, 5 skipped, 40 succeeded</desc>' in strip
    assert (
        'aria-label="2026-03-01 09:10:00 UTC: failed, 6.00 s"' in strip
    )  # run 180, 50 min before NOW


def test_the_duration_chart_draws_the_timed_runs_of_the_last_200(
    admin_client_: Client, job: Job
) -> None:
    html = admin_client_.get(f"/admin/scheduler/job/{job.pk}/change/").content.decode()

    chart = svg(html, "tw-durations")
    # Runs 30 to 229: 20 of them skipped, so 180 with a duration, the longest 7 s.
    assert chart.count('<g class="tw-mark') == 180
    assert chart.count('<g class="tw-mark tw-st-failed"') == 20
    assert (
        '<desc id="tw-durations-desc">180 runs with a duration, longest 7.00 s; '
        "20 without one (not started)</desc>"
    ) in chart
    assert ">7.00 s</text>" in chart  # the top of the scale


def test_a_job_without_runs_says_so(admin_client_: Client, store: DjangoStore, site: str) -> None:
    save(store, name="fresh", every="1h")
    pk = Job.objects.using(site).get(name="fresh").pk

    html = admin_client_.get(f"/admin/scheduler/job/{pk}/change/").content.decode()

    assert '<desc id="tw-strip-desc">No runs yet.</desc>' in html
    assert '<desc id="tw-durations-desc">No run with a duration yet.</desc>' in html


def test_a_view_only_user_sees_the_charts(job: Job) -> None:
    viewer = client_for(user("viewer", "view_job", "view_run"))

    html = viewer.get(f"/admin/scheduler/job/{job.pk}/change/").content.decode()

    assert len(re.findall(r'class="tw-strip-run"', svg(html, "tw-strip"))) == 50
    assert 'name="_save"' not in html
