"""What every benchmark script shares: databases, clocks, counters and the case runner.

A *case* is one (workload, system, number of jobs) measurement.  Each case runs
in a fresh Python process (``python -m benchmarks.<workload> --case SYSTEM``),
so no case inherits another's imports, caches, threads or memory, and prints
one JSON object on its last line of output.  A workload script without
``--case`` runs its cases one after the other and prints them as one JSON
document.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .leftovers import CASE_TAG, database_prefix, drop_leftovers, new_tag

#: The server the PostgreSQL cases use; each case creates its own database on it.
POSTGRES_ADMIN_URL = os.environ.get(
    "TICKWORK_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
#: The MariaDB (or MySQL) server the MariaDB cases use, as a SQLAlchemy URL without a database.
MARIADB_ADMIN_URL = os.environ.get("TICKWORK_BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306")
#: Every system a workload can measure, in the order tables list them.
SYSTEMS = (
    "tickwork-postgresql",
    "tickwork-sqlite",
    "tickwork-mariadb",
    "celery-beat-postgresql",
    "celery-beat-sqlite",
    "apscheduler-postgresql",
    "apscheduler-sqlite",
    "apscheduler-memory",
)
LABELS = {
    "tickwork-postgresql": "Tickwork, PostgreSQL",
    "tickwork-sqlite": "Tickwork, SQLite",
    "tickwork-mariadb": "Tickwork, MariaDB",
    "celery-beat-postgresql": "django-celery-beat, PostgreSQL",
    "celery-beat-sqlite": "django-celery-beat, SQLite",
    "apscheduler-postgresql": "APScheduler 3, SQLAlchemyJobStore on PostgreSQL",
    "apscheduler-sqlite": "APScheduler 3, SQLAlchemyJobStore on SQLite",
    "apscheduler-memory": "APScheduler 3, MemoryJobStore (persists nothing)",
}

Result = dict[str, Any]
SKIPPED = "left out of the full run to keep make bench within its time"
#: Seconds after which a case process is killed and reported as an error.
CASE_TIMEOUT = 600


def utcnow() -> datetime:
    return datetime.now(UTC)


def since(start: float) -> float:
    """Seconds of wall time since the ``time.perf_counter()`` reading ``start``."""
    return time.perf_counter() - start


def peak_rss_mib() -> float:
    """The peak resident memory of this process so far, in MiB.

    Read from ``VmHWM`` in ``/proc/self/status``, the high-water mark of this
    program's own memory.  ``getrusage``'s ``ru_maxrss`` would not do: Linux
    carries it across ``exec``, so a process launched by a big parent starts
    with the parent's peak.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """The resident memory of this process now, in MiB."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_seconds() -> float:
    """CPU time of this process (all threads, user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` quantile of ``values`` (nearest rank), or None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def case_result(workload: str, system: str, jobs: int, **values: Any) -> Result:
    """The JSON object a case prints: who, what size, and its measurements."""
    return {
        "workload": workload,
        "system": system,
        "label": LABELS[system],
        "jobs": jobs,
        **values,
    }


def not_measured(workload: str, system: str, jobs: int, reason: str) -> Result:
    """A case that was not run (or could not be), with the reason in words."""
    return case_result(workload, system, jobs, status="not measured", reason=reason)


# -- databases ---------------------------------------------------------------


@dataclass
class Database:
    """One throwaway database for one case: a SQLite file or a PostgreSQL database."""

    kind: str  # "sqlite", "postgresql" or "mariadb"
    name: str
    directory: Path  # where a SQLite database keeps its file

    @property
    def sqlalchemy_url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        if self.kind == "mariadb":
            return f"{MARIADB_ADMIN_URL.rstrip('/')}/{self.name}"
        return f"{_server_url('postgresql+psycopg')}/{self.name}"

    @property
    def path(self) -> Path:
        return self.directory / f"{self.name}.sqlite3"

    def django_settings(self) -> dict[str, Any]:
        if self.kind == "sqlite":
            return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(self.path)}
        admin = _parse_admin_url()
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.name,
            "USER": admin["user"],
            "HOST": admin["host"],
            "PORT": admin["port"],
        }


def _server_url(driver: str) -> str:
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return base.replace("postgresql://", f"{driver}://", 1)


def _parse_admin_url() -> dict[str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(POSTGRES_ADMIN_URL)
    return {
        "user": parts.username or "postgres",
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
    }


@contextlib.contextmanager
def throwaway_database(kind: str, directory: Path) -> Iterator[Database]:
    """A new, empty database of ``kind`` that is dropped (or deleted) afterwards.

    Its name carries the case's tag (:mod:`benchmarks.leftovers`), so the
    runner drops it even when the case process is killed before it can.
    """
    name = f"{database_prefix()}{uuid.uuid4().hex[:10]}"
    database = Database(kind=kind, name=name, directory=directory)
    if kind == "sqlite":
        try:
            yield database
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{database.path}{suffix}").unlink(missing_ok=True)
        return
    if kind == "mariadb":
        with _mariadb_database(database):
            yield database
        return
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def _mariadb_database(database: Database) -> Iterator[None]:
    from sqlalchemy import create_engine, text

    engine = create_engine(MARIADB_ADMIN_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{database.name}`"))
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{database.name}`"))
        engine.dispose()


def mariadb_reachable() -> str | None:
    """None if the MariaDB server answers, else why not."""
    try:
        from sqlalchemy import create_engine

        engine = create_engine(MARIADB_ADMIN_URL, connect_args={"connect_timeout": 5})
        try:
            with engine.connect():
                return None
        finally:
            engine.dispose()
    except Exception as error:  # any failure means: not usable for this run
        return f"MariaDB at {MARIADB_ADMIN_URL} is not reachable: {error}"


def database_kind(system: str) -> str:
    """``sqlite``, ``postgresql``, ``mariadb`` or ``memory``: the last part of a system's name."""
    return system.rsplit("-", 1)[1]


def postgres_reachable() -> str | None:
    """None if the PostgreSQL server answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=5):
            return None
    except Exception as error:  # any failure means: not usable for this run
        return f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {error}"


# -- what the schedulers hand over ----------------------------------------------


@dataclass
class Handover:
    """One run handed to an executor (or broker): which job, for which slot, when."""

    job: str
    at: float  # time.time() when it was handed over
    scheduled_for: float | None = None  # time.time()-style instant of its slot, if known


@dataclass
class Handovers:
    """Thread-safe record of hand-overs, with a way to wait for a count."""

    items: list[Handover] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, job: str, scheduled_for: float | None = None) -> None:
        item = Handover(job=job, at=time.time(), scheduled_for=scheduled_for)
        with self._changed:
            self.items.append(item)
            self._changed.notify_all()

    def count(self) -> int:
        with self._changed:
            return len(self.items)

    def wait_for(self, count: int, *, until: float) -> bool:
        """Wait until at least ``count`` hand-overs, or the ``time.time()`` instant ``until``."""
        with self._changed:
            while len(self.items) < count:
                left = until - time.time()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.5))
            return True

    def first_for(self, job: str, *, after: float) -> Handover | None:
        with self._changed:
            return next((h for h in self.items if h.job == job and h.at >= after), None)

    def snapshot(self) -> list[Handover]:
        with self._changed:
            return list(self.items)


@dataclass
class Counter:
    """A thread-safe count, such as of SQL statements sent."""

    value: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, amount: int = 1) -> None:
        with self._lock:
            self.value += amount

    def read(self) -> int:
        with self._lock:
            return self.value


@dataclass
class Starts:
    """Thread-safe ``time.time()`` instants at which a scheduler began a wake-up's work."""

    items: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self) -> None:
        instant = time.time()
        with self._lock:
            self.items.append(instant)

    def last_before(self, instant: float) -> float | None:
        """The latest start at or before ``instant`` (None if none was)."""
        with self._lock:
            return max((start for start in self.items if start <= instant), default=None)


def count_sqlalchemy_statements(engine: Any, counter: Counter) -> None:
    """Count every statement ``engine`` sends (an executemany counts once)."""
    from sqlalchemy import event

    def before(*_: Any) -> None:
        counter.add()

    event.listen(engine, "before_cursor_execute", before)


def quiet_cron(now: datetime | None = None) -> str:
    """A daily cron expression whose next slot is 90 to 91 minutes away: not due within the hour."""
    slot = (now or utcnow()) + timedelta(minutes=91)
    return f"{slot.minute} {slot.hour} * * *"


def wait_until(instant: float) -> None:
    """Sleep until the ``time.time()`` instant ``instant``."""
    while (left := instant - time.time()) > 0:
        time.sleep(min(left, 0.5))


# -- the case runner ------------------------------------------------------------------


def workload_arguments(description: str, *, default_jobs: Sequence[int]) -> argparse.ArgumentParser:
    """The command line every workload script shares."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--jobs",
        default=",".join(map(str, default_jobs)),
        help="comma-separated numbers of jobs (default: %(default)s)",
    )
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help="comma-separated systems to measure (default: all)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="seconds a system may take before its case is cut short (default: %(default)s)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="SYSTEM:JOBS",
        help="leave this case out (reported as not measured); may be repeated",
    )
    parser.add_argument("--case", metavar="SYSTEM", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    return parser


def parse_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def run_cases(
    workload: str,
    module: str,
    args: argparse.Namespace,
    *,
    extra: Sequence[str] = (),
    sizes: Sequence[int] | None = None,
) -> Result:
    """Run every (system, size) case of ``workload``, each in its own process."""
    cases: list[Result] = []
    started = time.perf_counter()
    unreachable = postgres_reachable()
    systems = parse_list(args.systems)
    mariadb = mariadb_reachable() if any(s.endswith("-mariadb") for s in systems) else None
    jobs = sizes if sizes is not None else [int(value) for value in parse_list(args.jobs)]
    for system in systems:
        if system not in SYSTEMS:
            raise SystemExit(f"unknown system {system!r}; choose from {', '.join(SYSTEMS)}")
        for count in jobs:
            if unreachable and database_kind(system) == "postgresql":
                cases.append(not_measured(workload, system, count, unreachable))
                continue
            if mariadb and database_kind(system) == "mariadb":
                cases.append(not_measured(workload, system, count, mariadb))
                continue
            if f"{system}:{count}" in args.skip:
                cases.append(not_measured(workload, system, count, SKIPPED))
                continue
            command = [
                sys.executable,
                "-m",
                module,
                "--case",
                system,
                "--jobs",
                str(count),
                "--budget",
                str(args.budget),
                *extra,
            ]
            cases.append(run_case(command, workload, system, count))
            print_progress(cases[-1])
    return {"workload": workload, "seconds": round(since(started), 1), "cases": cases}


def run_case(command: Sequence[str], workload: str, system: str, jobs: int) -> Result:
    """Run one case's process and read the JSON object on its last line of output.

    The case works in a directory and under a database tag this process owns,
    so whatever it leaves behind, killed at :data:`CASE_TIMEOUT` or crashed,
    is deleted and dropped here.
    """
    tag = new_tag()
    with tempfile.TemporaryDirectory(prefix="tickwork-bench-") as workdir:
        try:
            return _run_case(
                [*command, "--workdir", workdir],
                {**os.environ, CASE_TAG: tag},
                workload,
                system,
                jobs,
            )
        finally:
            drop_leftovers(tag, POSTGRES_ADMIN_URL, MARIADB_ADMIN_URL)


def _run_case(
    command: Sequence[str], env: dict[str, str], workload: str, system: str, jobs: int
) -> Result:
    started = time.perf_counter()
    try:
        completed = subprocess.run(  # noqa: S603 - our own interpreter and module
            command, capture_output=True, text=True, check=False, timeout=CASE_TIMEOUT, env=env
        )
    except subprocess.TimeoutExpired:
        return case_result(
            workload,
            system,
            jobs,
            status="error",
            reason=f"the case process did not finish within {CASE_TIMEOUT} s",
            case_seconds=round(since(started), 1),
        )
    lines = completed.stdout.strip().splitlines()
    try:
        result: Result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-15:]
        result = case_result(
            workload,
            system,
            jobs,
            status="error",
            reason=f"the case process exited with {completed.returncode}",
            stderr_tail=tail,
        )
    result["case_seconds"] = round(since(started), 1)
    return result


def print_progress(result: Result) -> None:
    status = result.get("status", "?")
    print(
        f"  {result['workload']:<9} {result['system']:<24} {result['jobs']:>7} jobs  "
        f"{status:<13} ({result.get('case_seconds', '?')} s)",
        file=sys.stderr,
        flush=True,
    )


def emit(result: Result) -> None:
    """Print ``result`` as one line of JSON (a case's last line of output)."""
    print(json.dumps(result, sort_keys=False), flush=True)


def serve_case(args: argparse.Namespace, workload: str, measure: Callable[[Path], Result]) -> None:
    """Measure one case in this process (``--case``), print its result and exit."""
    with case_workdir(args) as workdir:
        emit(guarded(lambda: measure(workdir), workload, args.case, int(args.jobs)))
    finish_case()


def finish_case() -> None:
    """End a case process at once, without waiting for a scheduler left running.

    A case cut short leaves its scheduler busy (APScheduler's shutdown, for
    one, waits until its whole due batch is processed); its result is already
    printed, and its process has nothing else to do.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@contextlib.contextmanager
def case_workdir(args: argparse.Namespace) -> Iterator[Path]:
    """The directory for a case's SQLite files: ``--workdir`` or a temporary one."""
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        yield args.workdir
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tickwork-bench-") as directory:
        yield Path(directory)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    load = os.getloadavg()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_1m_at_start": round(load[0], 2),
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def guarded(run: Callable[[], Result], workload: str, system: str, jobs: int) -> Result:
    """Run a case body; an exception becomes an ``error`` result instead of a lost case."""
    try:
        return run()
    except Exception as error:  # report, do not crash the whole benchmark
        import traceback

        return case_result(
            workload,
            system,
            jobs,
            status="error",
            reason=f"{type(error).__name__}: {error}",
            traceback=traceback.format_exc().splitlines()[-12:],
        )
