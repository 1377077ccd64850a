"""Who may open the dashboard: the view permission on runs, and nothing else changes."""

from __future__ import annotations

import pytest
from django.test import Client

from scheduler.django.store import DjangoStore
from scheduler.testing import FakeClock

from .conftest import NOW, client_for, user
from .dashboard_seed import seed

#: Every URL of the dashboard (the page, and the page for each window), and
#: how many of the seeded runs it counts.
RUNS = {
    "/admin/scheduler/dashboard/": 10,
    "/admin/scheduler/dashboard/?window=24h": 10,
    "/admin/scheduler/dashboard/?window=7d": 11,
    "/admin/scheduler/dashboard/?window=30d": 71,
}
URLS = list(RUNS)


@pytest.fixture
def seeded(store: DjangoStore, site: str, clock: FakeClock) -> None:
    seed(store, site, NOW)


@pytest.mark.parametrize("url", URLS)
def test_anonymous_is_sent_to_the_login_page(url: str, seeded: None) -> None:
    page = Client().get(url)

    assert page.status_code == 302
    assert page["Location"].startswith("/admin/login/?next=/admin/scheduler/dashboard/")


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("codenames", [(), ("view_job", "change_job", "view_replica")])
def test_staff_without_the_view_permission_on_runs_is_refused(
    url: str, codenames: tuple[str, ...], seeded: None
) -> None:
    page = client_for(user("clerk", *codenames)).get(url)

    assert page.status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_a_view_only_user_sees_everything_and_can_change_nothing(url: str, seeded: None) -> None:
    html = client_for(user("viewer", "view_run", "view_job")).get(url).content.decode()

    assert f"Runs over time, by status ({RUNS[url]} runs)" in html
    for section in ("tw-health", "tw-lateness", "tw-failures", "tw-replicas", "tw-upcoming"):
        assert f'id="{section}"' in html
    assert "<form" not in html.split('id="content-main"')[1]


def test_the_app_index_lists_the_dashboard_only_for_who_may_open_it(seeded: None) -> None:
    viewer = client_for(user("viewer", "view_run")).get("/admin/scheduler/").content.decode()
    clerk = client_for(user("clerk", "view_job")).get("/admin/scheduler/").content.decode()

    assert 'href="/admin/scheduler/dashboard/"' in viewer
    assert 'href="/admin/scheduler/dashboard/"' not in clerk


def test_the_dashboard_has_no_add_change_or_delete_page(
    admin_client_: Client, seeded: None
) -> None:
    for url in ("add/", "1/change/", "1/delete/"):
        assert admin_client_.get(f"/admin/scheduler/dashboard/{url}").status_code == 404
    assert admin_client_.post("/admin/scheduler/dashboard/").status_code == 405
