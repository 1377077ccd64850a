"""The dashboard and a job's charts in a real browser, light and dark: headless Chromium.

A person logs in, opens the dashboard and the ``hourly`` job's page, first
with a light colour scheme, then a dark one, and the charts hold the seeded
runs (``tests/django/admin/dashboard_seed.py``).  Chromium and Playwright are
found as in ``test_admin_browser.py``: skipped on a laptop without them, a
failure under ``CI=true``.

Screenshots go to a directory under pytest's tmp path; with
``TICKWORK_SCREENSHOTS=docs/_static`` (``make screenshots``) they replace
the ones the docs show (``docs/django/admin.md``), so an ordinary test run
never rewrites a file of the docs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from scheduler.django.admin import common
from scheduler.django.models import Job
from scheduler.django.store import DjangoStore
from scheduler.testing import FakeClock

from .admin.conftest import NOW
from .admin.dashboard_seed import DAY_COUNTS, seed

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"]
PASSWORD = "browser-test-password"  # noqa: S105 - a throwaway test user's
#: The colour of a succeeded run in each theme (scheduler/admin.css).
SUCCEEDED = {"light": "rgb(46, 125, 50)", "dark": "rgb(102, 187, 106)"}


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the screenshots go: ``$TICKWORK_SCREENSHOTS``, or a directory of the test's."""
    folder = Path(os.environ.get("TICKWORK_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_dashboard_and_a_job_page_in_light_and_dark_mode(
    live_server: Any,
    django_user_model: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    chromium: str,
    shots: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings.SCHEDULER = {}
    monkeypatch.setattr(common, "clock", FakeClock(NOW))
    store = DjangoStore()
    seed(store, "default", NOW)
    hourly = Job.objects.get(name="hourly").pk
    django_user_model.objects.create_superuser("admin", "admin@example.com", PASSWORD)

    # Playwright's sync API runs an event loop in this thread, where Django
    # refuses database access: the database is written before it starts.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for scheme in ("light", "dark"):
                page = browser.new_page(
                    viewport={"width": 1280, "height": 900}, color_scheme=scheme
                )
                page.set_default_timeout(15_000)
                page.goto(f"{live_server.url}/admin/login/?next=/admin/scheduler/dashboard/")
                page.fill("#id_username", "admin")
                page.fill("#id_password", PASSWORD)
                page.click("input[type=submit]")
                expect(page.locator("h1")).to_have_text("Dashboard")
                _check_dashboard(page, expect, scheme)
                page.screenshot(path=shots / f"dashboard-{scheme}.png", full_page=True)

                page.goto(f"{live_server.url}/admin/scheduler/job/{hourly}/change/")
                _check_job_page(page, expect, scheme)
                page.locator("#tw-job-charts").screenshot(path=shots / f"job-charts-{scheme}.png")
                page.close()
        finally:
            browser.close()
    store.dispose()

    for name in ("dashboard", "job-charts"):
        for scheme in ("light", "dark"):
            assert (shots / f"{name}-{scheme}.png").read_bytes().startswith(b"\x89PNG")


def _check_dashboard(page: Any, expect: Any, scheme: str) -> None:
    segments = page.locator("#tw-runs-chart rect.tw-fill")
    expect(segments).to_have_count(9)
    drawn = page.eval_on_selector_all(
        "#tw-runs-chart rect.tw-fill",
        "rects => rects.map(r => [r.dataset.status, Number(r.dataset.runs), r.getBBox().height])",
    )
    counts: dict[str, int] = {}
    for status, runs, height in drawn:
        counts[status] = counts.get(status, 0) + runs
        assert height > 0
    assert counts == DAY_COUNTS
    expect(page.locator("#tw-timeline .tw-timeline-row")).to_have_count(3)
    strokes = page.eval_on_selector_all(
        "#tw-timeline path.tw-tick",
        "paths => paths.map(p => p.getAttribute('d').split('M').length - 1)",
    )
    assert strokes == [24, 23, 1]
    expect(page.locator("#tw-lateness-p99")).to_have_text("9.00 s")
    expect(page.locator("#tw-health tbody tr")).to_have_count(2)
    expect(page.locator("#tw-failures tbody tr").first).to_contain_text("its replica stopped")
    _check_theme(page, "#tw-runs-chart rect.tw-st-succeeded", scheme)


def _check_job_page(page: Any, expect: Any, scheme: str) -> None:
    # hourly: 4 succeeded, then lost, missed and skipped (oldest first: skipped).
    marks = page.locator("#tw-strip a.tw-strip-run")
    expect(marks).to_have_count(7)
    statuses = marks.evaluate_all("links => links.map(a => a.dataset.status)")
    assert statuses == ["skipped", "missed", "lost", *["succeeded"] * 4]
    expect(page.locator("#tw-durations g.tw-mark")).to_have_count(4)
    marks.last.click()
    expect(page.locator("h1")).to_contain_text("run")
    page.go_back()
    _check_theme(page, "#tw-strip .tw-mark.tw-st-succeeded", scheme)


def _check_theme(page: Any, selector: str, scheme: str) -> None:
    """The marks take the theme's colour; the admin's toggle (data-theme) overrides the scheme."""
    fill = page.eval_on_selector(selector, "e => getComputedStyle(e).fill")
    assert fill == SUCCEEDED[scheme]
    other = "dark" if scheme == "light" else "light"
    page.evaluate(f"document.documentElement.dataset.theme = '{other}'")
    assert page.eval_on_selector(selector, "e => getComputedStyle(e).fill") == SUCCEEDED[other]
    page.evaluate("document.documentElement.dataset.theme = 'auto'")
