"""The admin in a real browser: headless Chromium driven by Playwright.

A person logs in, creates a cron job, watches the next-runs preview follow
what they type, saves, presses Run now and finds the manual run in the
history.  Screenshots of each step are saved to ``$TICKWORK_ARTIFACTS`` (or a
directory under pytest's tmp path) and the directory is printed.

Chromium is Debian's (``apt-get install chromium``; ``TICKWORK_CHROMIUM``
names another binary); Playwright never downloads a browser.  Without
Chromium or Playwright the test is skipped on a laptop and fails under
``CI=true``.  The site runs on pytest-django's ``live_server`` with the
scheduler's tables on the default database, and the admin's clock is fixed,
so every time on the pages is known.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scheduler.django.admin import common
from scheduler.testing import FakeClock

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
PASSWORD = "browser-test-password"  # noqa: S105 - a throwaway test user's
PING = "tests.django.testapp.tasks.ping"
# A Friday noon: the Sunday after, Berlin springs forward over 02:30.
NOW = "2026-03-27T12:00:00+00:00"


@pytest.fixture
def artifacts(
    request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[Path]:
    """Where the screenshots go; printed at the end of the test, past output capture."""
    base = os.environ.get("TICKWORK_ARTIFACTS")
    folder = Path(base) / "admin-browser" if base else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    shots = ", ".join(sorted(path.name for path in folder.glob("*.png"))) or "none"
    if reporter is not None:
        with capsys.disabled():
            reporter.write_line(f"\nadmin browser test screenshots in {folder}: {shots}")


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock(NOW)
    monkeypatch.setattr(common, "clock", clock)
    return clock


def test_create_a_cron_job_preview_it_save_it_and_run_it_now(
    live_server: Any,
    django_user_model: Any,
    settings: Any,
    chromium: str,
    artifacts: Path,
    fixed_clock: FakeClock,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings.SCHEDULER = {}
    django_user_model.objects.create_superuser("admin", "admin@example.com", PASSWORD)

    # Playwright's sync API runs an event loop in this thread, where Django
    # refuses database access: the database is read before and after it.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        try:
            page.goto(f"{live_server.url}/admin/login/?next=/admin/scheduler/job/add/")
            page.fill("#id_username", "admin")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            expect(page.locator("h1")).to_have_text("Add job")
            opened = page.locator("#tw-preview .tw-preview-body")
            expect(opened).to_have_text("Type a cron expression to see its next runs.")
            expect(opened.locator("[role=alert]")).to_have_count(0)

            page.fill("#id_name", "nightly-report")
            page.select_option("#id_task", PING)
            page.fill("#id_timezone", "Europe/Berlin")
            preview = page.locator("#tw-preview .tw-preview-body")

            page.fill("#id_cron", "61 2 * * *")
            expect(preview).to_contain_text("Cron expression:")
            expect(preview).to_contain_text("the minute field '61' is not valid (allowed: 0-59)")
            page.screenshot(path=artifacts / "1-preview-error.png", full_page=True)

            page.fill("#id_cron", "30 2 * * *")
            expect(preview.locator("li")).to_have_count(5)
            expect(preview.locator("li").nth(0)).to_contain_text("2026-03-28 02:30:00 CET")
            # 02:30 does not exist on the 29th in Berlin: the run moves to 03:00.
            expect(preview.locator("li").nth(1)).to_contain_text("2026-03-29 03:00:00 CEST")
            expect(preview).to_contain_text("At 02:30")
            page.locator("#tw-preview").screenshot(path=artifacts / "2-preview.png")

            page.click("input[name=_continue]")
            expect(page.locator(".messagelist")).to_contain_text("was added successfully")
            expect(preview.locator("li").nth(1)).to_contain_text("2026-03-29 03:00:00 CEST")
            page.screenshot(path=artifacts / "3-saved.png", full_page=True)

            page.click("button.tw-run-button")
            expect(page.locator(".messagelist")).to_contain_text(
                "Queued run 1 of nightly-report; the scheduler hands it to the 'default' executor"
            )
            recent = page.locator("#tw-recent-runs tbody tr")
            expect(recent).to_have_count(1)
            expect(recent.first).to_contain_text("2026-03-27 13:00:00 CET")
            expect(recent.first).to_contain_text("manual")
            expect(recent.first).to_contain_text("pending")
            page.screenshot(path=artifacts / "4-run-now.png", full_page=True)

            page.click("text=Run history")
            rows = page.locator("#result_list tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("nightly-report")
            expect(rows.first).to_contain_text("manual")
            expect(rows.first.locator(".tw-badge")).to_have_text("pending")
            page.screenshot(path=artifacts / "5-history.png", full_page=True)

            page.goto(f"{live_server.url}/admin/scheduler/job/")
            expect(page.locator("#result_list tbody tr")).to_have_count(1)
            page.screenshot(path=artifacts / "6-jobs.png", full_page=True)
        finally:
            browser.close()

    from scheduler.django.models import Job, Run

    job = Job.objects.get()
    assert (job.name, job.cron, job.timezone, job.source) == (
        "nightly-report",
        "30 2 * * *",
        "Europe/Berlin",
        "admin",
    )
    assert list(Run.objects.values_list("trigger", "status")) == [("manual", "pending")]
    assert sorted(path.name for path in artifacts.glob("*.png")) == [
        "1-preview-error.png",
        "2-preview.png",
        "3-saved.png",
        "4-run-now.png",
        "5-history.png",
        "6-jobs.png",
    ]
