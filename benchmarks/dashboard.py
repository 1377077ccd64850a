"""Workload 7, the admin dashboard: its page over 1,000 jobs and 2,000,000 runs.

The runs are written by the database itself (``INSERT ... SELECT`` over
``generate_series``, a recursive counter on SQLite): each job's runs a
slot apart over the last 30 days, oldest first, so the last 24 hours hold
about 1/30 of them.  Of every 100 runs 90 succeeded, 4 failed, 1 timed out,
1 was lost, 2 missed and 2 skipped; the ones that started did so up to 0.6 s
late and ran up to 9.6 s.  The table is then analysed, as autovacuum would.

The page is asked for as the admin asks for it (the URL, the admin's view,
the template rendered), by a superuser, for each window; each is timed
``--repeat`` times after one warm-up, and its queries are counted.

    python -m benchmarks.dashboard --jobs 1000 --runs 2000000
    python -m benchmarks.dashboard --database sqlite --jobs 50 --runs 5000
"""

from __future__ import annotations

import argparse
import sys
import time
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .common import Database, Result, emit, postgres_reachable, rounded
from .floor import _connect, _tickwork_tables

WORKLOAD = "dashboard"
WINDOWS = ("24h", "7d", "30d")
HISTORY = timedelta(days=30)
# Of every 100 runs, by k % 100: the status, and whether it started.
STATUS_SQL = """CASE
    WHEN k % 100 < 90 THEN 'succeeded' WHEN k % 100 < 94 THEN 'failed'
    WHEN k % 100 < 95 THEN 'timed_out' WHEN k % 100 < 96 THEN 'lost'
    WHEN k % 100 < 98 THEN 'missed' ELSE 'skipped' END"""
STARTED_SQL = "k % 100 < 96"


def seed(database: Database, jobs: int, runs: int, now: datetime) -> float:
    """Write ``runs`` runs spread over ``jobs`` jobs and the last 30 days; the seconds taken."""
    started = time.perf_counter()
    connection = _connect(database)
    first = int(connection.execute("SELECT MIN(id) FROM scheduler_job").fetchone()[0])
    gap = HISTORY.total_seconds() / -(-runs // jobs)  # seconds between a job's runs
    connection.execute(_insert_sql(database.kind, now, runs=runs, jobs=jobs, first=first, gap=gap))
    connection.commit()
    if database.kind == "postgresql":
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE scheduler_run")
    else:
        connection.execute("ANALYZE")
    connection.close()
    return time.perf_counter() - started


def _insert_sql(kind: str, now: datetime, *, runs: int, jobs: int, first: int, gap: float) -> str:
    """Run k (0 to runs - 1) of job ``first + k % jobs``, its slot ``(k // jobs + 1) * gap``
    seconds before ``now``.  Numbers only are written into the statement."""
    columns = (
        "job_id, scheduled_for, due_at, attempt, trigger, status, started_at, finished_at, "
        "duration_seconds, error, traceback, executor, external_id, replica_id, worker"
    )
    back = f"((k / {jobs}) + 1) * {gap!r}"
    if kind == "sqlite":
        shape = "'%Y-%m-%d %H:%M:%f000'"  # six fraction digits, as the store writes them
        base = now.replace(tzinfo=None).isoformat(sep=" ")
        slot = f"strftime({shape}, '{base}', '-' || ({back}) || ' seconds')"
        late = f"strftime({shape}, {slot}, '+' || ((k % 7) / 10.0) || ' seconds')"
        counter = "WITH RECURSIVE c(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM c WHERE k < {})"
        counter = counter.format(runs - 1)
    else:
        slot = f"TIMESTAMPTZ '{now.isoformat()}' - make_interval(secs => {back})"
        late = f"({slot}) + make_interval(secs => (k % 7) / 10.0)"
        counter = f"WITH c AS (SELECT generate_series(0, {runs - 1}) AS k)"
    started = f"CASE WHEN {STARTED_SQL} THEN {late} END"
    finished = f"CASE WHEN {STARTED_SQL} THEN {late} END"
    duration = f"CASE WHEN {STARTED_SQL} THEN (k % 97) / 10.0 END"
    error = "CASE WHEN k % 100 BETWEEN 90 AND 93 THEN 'ValueError: no pong today' ELSE '' END"
    return (
        f"{counter} INSERT INTO scheduler_run ({columns}) "  # noqa: S608 - numbers only
        f"SELECT {first} + k % {jobs}, {slot}, {slot}, 1, 'schedule', {STATUS_SQL}, "
        f"{started}, {finished}, {duration}, {error}, '', 'default', '', '', '' FROM c"
    )


def configure_django(database: Database) -> None:
    """A minimal site on ``database``: the admin, the scheduler's app, its URLs."""
    import django
    from django.conf import settings

    urls = types.ModuleType("tickwork_bench_urls")
    sys.modules[urls.__name__] = urls
    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark",  # noqa: S106 - a throwaway site's
        ALLOWED_HOSTS=["testserver"],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DATABASES={"default": database.django_settings()},
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "scheduler.django",
        ],
        ROOT_URLCONF=urls.__name__,
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        SCHEDULER={},
    )
    django.setup()
    from django.contrib import admin
    from django.urls import path

    urls.urlpatterns = [path("admin/", admin.site.urls)]  # type: ignore[attr-defined]


def time_page(window: str, repeat: int) -> Result:
    """Seconds (median, slowest) and queries of the dashboard for ``window``."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.urls import resolve

    url = f"/admin/scheduler/dashboard/?window={window}"
    person = User(username="bench", is_staff=True, is_superuser=True, is_active=True)

    def ask() -> tuple[float, list[dict[str, str]], int]:
        request = RequestFactory().get(url)
        request.user = person
        began = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = resolve(request.path_info).func(request)
            response.render()
        seconds = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        return seconds, queries.captured_queries, len(response.content)

    ask()  # warm-up: templates compiled, connection open
    asked = sorted((ask() for _ in range(repeat)), key=lambda one: one[0])
    median = asked[len(asked) // 2]
    in_sql = [float(query["time"]) for query in median[1]]
    return {
        "window": window,
        "median_seconds": rounded(median[0]),
        "max_seconds": rounded(asked[-1][0]),
        "queries": len(median[1]),
        # Of the median request: the time its queries took (Django's measure), and each.
        "sql_seconds": rounded(sum(in_sql)),
        "query_seconds": [rounded(seconds, 3) for seconds in in_sql],
        "page_bytes": median[2],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=2_000_000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp"))  # noqa: S108 - SQLite only
    args = parser.parse_args()
    if args.database == "postgresql" and (why := postgres_reachable()):
        parser.error(why)
    started = time.perf_counter()
    now = datetime.now(UTC)
    with _tickwork_tables(args.database, args.jobs, args.workdir) as database:
        seeding = seed(database, args.jobs, args.runs, now)
        configure_django(database)
        pages = [time_page(window, args.repeat) for window in WINDOWS]
        from django.db import connections

        connections.close_all()
    emit(
        {
            "workload": WORKLOAD,
            "database": args.database,
            "jobs": args.jobs,
            "runs": args.runs,
            "seed_seconds": round(seeding, 1),
            "pages": pages,
            "seconds": round(time.perf_counter() - started, 1),
        }
    )


if __name__ == "__main__":
    main()
