"""Admin saves on a SQLite file that a real scheduler process writes to every second.

``manage.py run_scheduler`` runs as a subprocess on the same file as the admin
(its database is the site's ``default``, as in ``make demo``), with five jobs
due every second, while the admin saves jobs 200 times through Django's test
client.  No save may fail with a server error: each is stored (checked in the
database) or refused with a message on the form, which keeps what was typed.
Run once with Django's SQLite defaults and once with the settings the docs
recommend (docs/reference/settings.md).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from scheduler.django.models import Job, Run
from scheduler.django.store import DjangoStore
from scheduler.model.runs import NewRun, RunStatus
from tests.django.sites import ROOT
from tests.django.sites import site as make_site

from .conftest import NOW, PING, repointed, user
from .conftest import save as admin_save
from .test_job_form import posted

SAVES = 200
#: The connection options the settings reference recommends for SQLite.
RECOMMENDED = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL;",
}
DEADLINE = 60.0
JOBS = "/admin/scheduler/job/"


def form(**changes: str) -> dict[str, str]:
    """The job form as a browser posts it: an hourly job in UTC, with ``changes``."""
    return posted(
        **{"schedule_type": "every", "cron": "", "every": "1h", "timezone": "UTC", **changes}
    )


@contextmanager
def scheduler(tmp_path: Path, options: dict[str, Any]) -> Iterator[dict[str, str]]:
    """A ``run_scheduler`` process on a new site's SQLite file, claiming every second."""
    extra = f'\nDATABASES["default"]["OPTIONS"] = {options!r}\n'
    env = make_site(tmp_path, extra)
    jobs = "".join(
        f"  tick-{n}:\n    task: {PING}\n    every: 1s\n    overlap: allow\n" for n in range(5)
    )
    (tmp_path / "schedules.yaml").write_text(f"jobs:\n{jobs}")
    log = tmp_path / "run.log"
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "django", "run_scheduler", "--replica-id", "busy-1"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        yield env
        assert process.poll() is None, log.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(DEADLINE)


def wait_for_claims(since: int) -> int:
    """Poll the run table until the scheduler has claimed more runs than ``since``."""
    deadline = time.monotonic() + DEADLINE
    while (count := Run.objects.using("default").count()) <= since:
        assert time.monotonic() < deadline, "the scheduler claimed nothing"
        time.sleep(0.1)
    return count


@pytest.mark.slow  # about 20 s per run on an idle machine (a site, a scheduler, 200 posts)
@pytest.mark.parametrize(
    "options", [pytest.param({}, id="django-defaults"), pytest.param(RECOMMENDED, id="recommended")]
)
def test_200_admin_saves_beside_a_real_scheduler_never_fail_with_a_server_error(
    tmp_path: Path, options: dict[str, Any], settings: Any, django_db_blocker: Any
) -> None:
    with (
        scheduler(tmp_path, options),
        django_db_blocker.unblock(),
        repointed("default", str(tmp_path / "site.sqlite3"), options),
    ):
        settings.SCHEDULER = {"DATABASE": "default", "SCHEDULES": str(tmp_path / "schedules.yaml")}
        client = Client(raise_request_exception=False)
        client.force_login(user("root", superuser=True))
        before = wait_for_claims(0)
        outcomes = [save(client, n) for n in range(SAVES)]
        claimed = wait_for_claims(before) - before

    errors = [outcome for outcome in outcomes if outcome.startswith("error")]
    assert errors == []
    refused = [outcome for outcome in outcomes if outcome == "refused"]
    assert outcomes.count("stored") + len(refused) == SAVES
    assert claimed > 0  # the scheduler wrote while the admin saved
    if options:
        # The form's transaction takes the write lock first, so it waits for the
        # scheduler's (up to the 20 s timeout) instead of failing: all are stored.
        assert refused == []


def save(client: Client, n: int) -> str:
    """Add a job (even ``n``) or change the one just added (odd); ``stored``, ``refused``
    or ``error: ...``."""
    name = f"saved-{n // 2}"
    job = Job.objects.using("default").filter(name=name).first()
    if job is None:  # an even n, or an odd one whose add was refused
        url, data = f"{JOBS}add/", form(name=name, description=f"added {n}")
    else:
        url = f"{JOBS}{job.pk}/change/"
        data = form(name=name, description=f"changed {n}", base_version=str(job.version))
    response = client.post(url, data)
    if response.status_code == 302:
        stored = Job.objects.using("default").get(name=name).description
        return "stored" if stored == f"{data['description']}" else f"error: lost {n}"
    if response.status_code != 200:
        return f"error: HTTP {response.status_code} on save {n}"
    page = response.content.decode()
    kept = f"{data['description']}</textarea>" in page
    said = "Not saved: the scheduler&#x27;s database is busy" in page
    return "refused" if kept and said else f"error: save {n} neither stored nor refused"


# -- a lock held past the timeout: every write path refuses with a message ---------


@contextmanager
def held_lock(alias: str) -> Iterator[None]:
    """Another connection holds the SQLite write lock; the admin waits 0.2 s for it."""
    from django.db import connections

    connection = connections[alias]
    connection.close()
    connection.settings_dict["OPTIONS"] = {"timeout": 0.2}
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()
        connection.close()
        connection.settings_dict["OPTIONS"] = {}


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


BUSY = "Not {}: the scheduler's database is busy (database is locked). Nothing was changed"


@pytest.mark.parametrize("alias", ["sqlite"], indirect=True)
def test_a_save_refused_for_a_held_lock_keeps_the_form_and_says_why(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    admin_save(store, name="nightly")
    job = Job.objects.using(site).get(name="nightly")
    with held_lock(site):
        added = admin_client_.post(f"{JOBS}add/", form(name="typed", description="my words"))
        changed = admin_client_.post(
            f"{JOBS}{job.pk}/change/",
            form(name="nightly", description="my change", base_version=str(job.version)),
        )
    for response, typed in [(added, "my words"), (changed, "my change")]:
        assert response.status_code == 200
        page = response.content.decode()
        assert BUSY.format("saved").replace("'", "&#x27;") in page
        assert f"{typed}</textarea>" in page  # what was typed is still there
    assert sorted(Job.objects.using(site).values_list("name", "description")) == [("nightly", "")]


@pytest.mark.parametrize("alias", ["sqlite"], indirect=True)
def test_actions_run_now_and_delete_refused_for_a_held_lock_say_why(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    admin_save(store, name="nightly")
    job = Job.objects.using(site).get(name="nightly")
    selected = {"_selected_action": [str(job.pk)], "index": "0"}
    with held_lock(site):
        paused = admin_client_.post(JOBS, {"action": "pause", **selected}, follow=True)
        queued = admin_client_.post(f"{JOBS}{job.pk}/run/", follow=True)
        deleted = admin_client_.post(f"{JOBS}{job.pk}/delete/", {"post": "yes"}, follow=True)
        bulk = admin_client_.post(
            JOBS, {"action": "delete_selected", "post": "yes", **selected}, follow=True
        )
    unavailable = "sqlite database 'sqlite' unavailable: database is locked"
    assert messages_of(paused) == [f"Not changed: nightly: {unavailable}"]
    assert messages_of(queued) == [f"Not queued: nightly: {unavailable}"]
    assert messages_of(deleted) == [
        BUSY.format("deleted") + "; try again. If this happens often on SQLite, raise the "
        'database\'s "timeout" option (see the settings reference).'
    ]
    assert messages_of(bulk)[0].startswith(BUSY.format("done"))
    assert Job.objects.using(site).filter(name="nightly", paused_at=None).exists()
    assert not Run.objects.using(site).exists()


@pytest.mark.parametrize("alias", ["sqlite"], indirect=True)
def test_cancelling_runs_refused_for_a_held_lock_says_why(
    admin_client_: Client, store: DjangoStore, site: str
) -> None:
    admin_save(store, name="nightly")
    waiting = store.add_run("nightly", NewRun(scheduled_for=NOW, due_at=NOW)).id
    selected = {"action": "cancel", "_selected_action": [str(waiting)], "index": "0"}
    with held_lock(site):
        response = admin_client_.post("/admin/scheduler/run/", selected, follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [
        f"Not cancelled: run {waiting}: sqlite database 'sqlite' unavailable: database is locked"
    ]
    assert Run.objects.using(site).get(pk=waiting).status == RunStatus.PENDING.value
