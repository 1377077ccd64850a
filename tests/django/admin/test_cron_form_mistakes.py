"""Cron mistakes found beyond croniter reach the job form on the cron field."""

from __future__ import annotations

import pytest
from django.test import Client

from scheduler.django.models import Job

from .test_job_form import ADD, posted


@pytest.mark.parametrize(
    ("cron", "says"),
    [
        ("0 17-9 * * *", "write 17-23,0-9 for a range that wraps past midnight"),
        ("0 9 * * FRI-SUN", "the day-of-week field has the range 'FRI-SUN', which starts after"),
    ],
)
def test_a_reversed_range_is_refused_on_the_cron_field(
    admin_client_: Client, site: str, cron: str, says: str
) -> None:
    response = admin_client_.post(ADD, posted(cron=cron))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["cron"]
    assert says in " ".join(errors["cron"])
    assert not Job.objects.using(site).exists()


def test_a_mixed_weekday_list_is_saved(admin_client_: Client, site: str) -> None:
    response = admin_client_.post(ADD, posted(cron="0 9 * * 6,2#1"))

    assert response.status_code == 302
    assert list(Job.objects.using(site).values_list("name", flat=True)) == ["nightly"]
