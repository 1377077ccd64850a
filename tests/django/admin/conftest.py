"""Fixtures for the admin's tests: a site database and users, a fixed clock.

The scheduler's tables live on the ``alias`` database (a fresh SQLite file, or
a fresh PostgreSQL database), named in ``SCHEDULER["DATABASE"]``; the site's
own tables (users, sessions, the admin log) live on ``default``, a fresh
SQLite file migrated for every installed app.  So every admin page is also
checked to read and write the scheduler's database, not the default one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client

from scheduler.django.admin import common
from scheduler.django.store import DjangoStore
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.testing import FakeClock

PING = "tests.django.testapp.tasks.ping"
REPORT = "tests.django.testapp.tasks.report"
PASSWORD = "tickwork-test-password"  # noqa: S105 - a throwaway test user's
#: "Now" on every admin page under test: a Sunday, 10:00 UTC.
NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


@contextmanager
def repointed(alias: str, name: str, options: dict[str, Any] | None = None) -> Iterator[None]:
    """Give ``alias`` a new connection to the database ``name`` (with the connection
    ``options``, if given) while inside.

    A new connection object, not the old one renamed: when pytest-django's own
    in-memory test database is open on ``alias`` (the browser test's), Django
    ignores ``close()`` on it, and the old object would stay attached to it.
    """
    from django.db import connections

    previous = connections[alias]
    changed = {"NAME": name} if options is None else {"NAME": name, "OPTIONS": options}
    fresh = type(previous)({**previous.settings_dict, **changed}, alias)
    connections[alias] = fresh
    try:
        yield
    finally:
        fresh.close()
        connections[alias] = previous


@pytest.fixture(scope="session")
def _site_template(tmp_path_factory: pytest.TempPathFactory, django_db_blocker: Any) -> Path:
    path = tmp_path_factory.mktemp("site-template") / "site.sqlite3"
    with django_db_blocker.unblock(), repointed("default", str(path)):
        call_command("migrate", database="default", verbosity=0, interactive=False)
    return path


@pytest.fixture
def site(
    _site_template: Path, alias: str, tmp_path: Path, django_db_blocker: Any, settings: Any
) -> Iterator[str]:
    """The scheduler's database alias, with the site's tables on a fresh ``default``."""
    path = tmp_path / "site.sqlite3"
    shutil.copyfile(_site_template, path)
    settings.SCHEDULER = {"DATABASE": alias, "SCHEDULES": str(tmp_path / "schedules.yaml")}
    # Content type ids are cached per alias, and another test may have
    # cached those of another database under "default".
    ContentType.objects.clear_cache()
    with django_db_blocker.unblock(), repointed("default", str(path)):
        yield alias
    ContentType.objects.clear_cache()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The admin's clock, fixed at :data:`NOW`."""
    fixed = FakeClock(NOW)
    monkeypatch.setattr(common, "clock", fixed)
    return fixed


@pytest.fixture
def store(site: str) -> Iterator[DjangoStore]:
    found = DjangoStore(using=site)
    try:
        yield found
    finally:
        found.dispose()


def user(username: str, *codenames: str, superuser: bool = False) -> User:
    """A staff user with the ``scheduler`` permissions named by ``codenames``."""
    if superuser:
        return User.objects.create_superuser(username, f"{username}@example.com", PASSWORD)
    found = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    found.user_permissions.set(
        Permission.objects.filter(content_type__app_label="scheduler", codename__in=codenames)
    )
    return found


def client_for(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def admin_client_(site: str, clock: FakeClock) -> Client:
    """A superuser's client."""
    return client_for(user("root", superuser=True))


def save(store: DjangoStore, source: JobSource = JobSource.ADMIN, **options: Any) -> JobSpec:
    """Store a job of ``source`` at :data:`NOW` and return its spec."""
    options.setdefault("name", "nightly")
    options.setdefault("task", PING)
    if not any(key in options for key in ("cron", "every", "at")):
        options["cron"] = "30 2 * * *"
    spec = JobSpec.build(source=source, **options)
    if source is JobSource.ADMIN:
        store.save_job(spec, now=NOW)
    else:
        store.sync_jobs([*_others(store, source), spec], source=source, now=NOW)
    return spec


def _others(store: DjangoStore, source: JobSource) -> list[JobSpec]:
    jobs = store.list_jobs()
    return [job.spec for job in jobs if job.spec.source is source and not job.removed_at]
