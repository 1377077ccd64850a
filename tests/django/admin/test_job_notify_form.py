"""The job form's notification fields: saved as the job's notify: setting, shown
back, refused for a notifier that is not configured, and shown read-only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from scheduler.django.store import DjangoStore
from scheduler.model.notify import JobNotify
from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus

from .conftest import save
from .test_job_form import ADD, change_url, posted

NOTIFIERS = {
    "ops": {"BACKEND": "mail_admins"},
    "slack": {"BACKEND": "webhook", "OPTIONS": {"URL": "https://example.invalid/h"}},
}


@pytest.fixture(autouse=True)
def notifiers(settings: Any, site: str) -> None:
    settings.SCHEDULER = {**settings.SCHEDULER, "NOTIFIERS": NOTIFIERS}


def test_a_job_without_notification_fields_keeps_the_default(
    admin_client_: Client, store: DjangoStore
) -> None:
    response = admin_client_.post(ADD, posted())
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert store.get_job("nightly").spec.notify == JobNotify()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"notify": "off"}, JobNotify(enabled=False)),
        ({"notify": "only", "notify_to": ["slack"]}, JobNotify(to=("slack",))),
        (
            {"notify": "every", "notify_when": ["failed", "succeeded"]},
            JobNotify(when=frozenset({RunStatus.FAILED, RunStatus.SUCCEEDED})),
        ),
    ],
)
def test_the_fields_are_saved_as_the_jobs_setting_and_shown_back(
    admin_client_: Client,
    store: DjangoStore,
    site: str,
    fields: dict[str, Any],
    expected: JobNotify,
) -> None:
    response = admin_client_.post(ADD, {**posted(), **fields})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert store.get_job("nightly").spec.notify == expected
    form = admin_client_.get(change_url(site, "nightly")).context["adminform"].form
    assert {key: form.initial[key] for key in fields} == fields


def test_an_unconfigured_notifier_or_an_empty_only_is_refused(
    admin_client_: Client, store: DjangoStore
) -> None:
    response = admin_client_.post(ADD, {**posted(), "notify": "only", "notify_to": ["pager"]})
    errors = response.context["adminform"].form.errors
    assert errors["notify_to"] == ["pager is not a notifier of SCHEDULER['NOTIFIERS']."]
    response = admin_client_.post(ADD, {**posted(), "notify": "only"})
    errors = response.context["adminform"].form.errors
    assert errors["notify_to"] == ["Check at least one notifier, or choose Nobody."]
    assert store.list_jobs() == []


def test_a_yaml_job_shows_its_setting_read_only(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    save(store, JobSource.YAML, name="declared", cron="0 6 * * *", notify=["ops"])
    page = admin_client_.get(change_url(site, "declared")).content.decode()
    assert "ops; on each notifier&#x27;s own statuses" in page
