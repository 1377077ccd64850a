"""Every benchmark script runs, at tiny sizes, and prints the JSON the report reads.

The numbers are not checked (tests assert behaviour, not speed); the shape
is, and so is what each workload must have done: every herd run handed over,
every lateness slot measured, Tickwork using an edit.  Each peer runs only
where it is installed (``tickwork[bench]``); a PostgreSQL case needs the
server (a MariaDB case, MariaDB), and is skipped without it (it fails when ``CI=true``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ..peers import need_celery_beat

pytestmark = pytest.mark.one_leg

ROOT = Path(__file__).resolve().parents[2]
PEERS = {"celery-beat": "django_celery_beat", "apscheduler": "apscheduler"}
ALL_SYSTEMS = [
    "tickwork-sqlite",
    "tickwork-postgresql",
    "tickwork-mariadb",
    "celery-beat-sqlite",
    "celery-beat-postgresql",
    "apscheduler-sqlite",
    "apscheduler-postgresql",
    "apscheduler-memory",
]
#: One of each harness for the slower workloads; the herd runs every system.
LOCAL_SYSTEMS = [
    "tickwork-sqlite",
    "celery-beat-sqlite",
    "apscheduler-sqlite",
    "apscheduler-memory",
]
CASE_KEYS = {"workload", "system", "label", "jobs", "status", "notes"}


def _needs(system: str, request: pytest.FixtureRequest) -> None:
    """Skip ``system`` if its scheduler is not installed; need PostgreSQL for its variant."""
    family = system.rsplit("-", 1)[0]
    module = PEERS.get(family)
    if family == "celery-beat":
        need_celery_beat()
    elif module is not None and importlib.util.find_spec(module) is None:
        pytest.skip(f"{family} is not installed here; nox installs it with tickwork[bench]")
    if system.endswith("postgresql"):
        request.getfixturevalue("postgres_url")  # skips, or fails in CI, without the server
    if system.endswith("mariadb"):
        request.getfixturevalue("mariadb_url")


def _run(*arguments: str, timeout: float = 120) -> dict[str, Any]:
    """Run ``python -m benchmarks...`` and return the JSON document on its last line."""
    completed = subprocess.run(
        [sys.executable, "-m", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    document: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return document


def _only_case(document: dict[str, Any], workload: str, system: str) -> dict[str, Any]:
    assert document["workload"] == workload
    assert isinstance(document["seconds"], float)
    [case] = document["cases"]
    assert CASE_KEYS <= set(case), case
    assert case["system"] == system
    assert case["status"] != "error", case
    return dict(case)


@pytest.mark.parametrize(
    "system",
    # APScheduler drops a run it hands over more than a second late (its
    # misfire_grace_time): its herds run alone on the machine.
    [pytest.param(s, marks=pytest.mark.serial) if "apscheduler" in s else s for s in ALL_SYSTEMS],
)
def test_herd(system: str, request: pytest.FixtureRequest) -> None:
    _needs(system, request)
    document = _run(
        "benchmarks.herd", "--systems", system, "--jobs", "5", "--lead", "0.5", "--budget", "30"
    )
    case = _only_case(document, "herd", system)
    assert case["status"] == "complete"
    assert case["handed_over"] == 5
    assert case["seconds"] >= 0
    assert case["runs_per_second"] > 0
    assert case["claim_started_seconds"] is not None
    assert 0 < case["from_claim_seconds"] <= case["seconds"] - case["claim_started_seconds"] + 1e-3
    if not system.endswith("memory"):  # django-celery-beat writes them when it stops
        assert case["recorded_after_stop"] == 5


@pytest.mark.parametrize("system", LOCAL_SYSTEMS)
def test_startup_and_idle(system: str, request: pytest.FixtureRequest) -> None:
    _needs(system, request)
    document = _run("benchmarks.startup", "--systems", system, "--jobs", "5", "--window", "0.5")
    case = _only_case(document, "startup", system)
    assert case["status"] == "complete"
    assert case["startup"]["peak_rss_mib"] > 0
    assert case["startup"]["seconds"] >= case["startup"]["seconds_after_imports"] > 0
    assert case["idle"]["handed_over"] == 0
    assert case["idle"]["cpu_seconds_per_minute"] >= 0


@pytest.mark.serial  # the scheduler must store its jobs and start within --lead 1 s
@pytest.mark.parametrize("system", LOCAL_SYSTEMS)
def test_lateness(system: str, request: pytest.FixtureRequest) -> None:
    _needs(system, request)
    document = _run(
        "benchmarks.lateness",
        *("--systems", system, "--jobs", "6", "--period", "3", "--window", "1"),
        *("--lead", "1", "--tail", "1"),
    )
    case = _only_case(document, "lateness", system)
    assert case["runs_measured"] == 2  # slots at 0, 0, 1, 1, 2, 2 s: two in the first second
    assert case["handed_over"] == 2
    assert case["p50_ms"] <= case["p99_ms"] <= case["max_ms"]


@pytest.mark.serial  # each scheduler must be up within --budget 3 s; Tickwork must use the edit
@pytest.mark.parametrize("system", LOCAL_SYSTEMS)
def test_edit(system: str, request: pytest.FixtureRequest) -> None:
    _needs(system, request)
    document = _run(
        "benchmarks.edit", "--systems", system, "--jobs", "5", "--edits", "1", "--budget", "3"
    )
    case = _only_case(document, "edit", system)
    assert case["edits"] == 1
    assert len(case["delays_seconds"]) == 1
    if system.startswith("tickwork"):  # it polls every second: the edit is used within 3 s
        assert case["used"] == 1
        assert 0 < case["median_seconds"] < 3


def test_the_floor_through_the_whole_run(tmp_path: Path) -> None:
    """``python -m benchmarks`` runs the floor script and writes both result files."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "floor", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    document = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    assert {"generated_at", "machine", "versions", "workloads", "seconds"} <= set(document)
    assert document["versions"]["tickwork"]
    floor = document["workloads"]["floor"]
    sqlite = next(row for row in floor["inserts"] if row["database"] == "sqlite")
    assert sqlite["rows"] == 20
    assert sqlite["executemany_seconds"] > 0
    assert sqlite["single_row_commits_per_second"] > 0
    assert set(floor["cron"]) == {
        "croniter_build_us",
        "croniter_next_us",
        "tickwork_cron_next_after_us",
    }
    table = (tmp_path / "latest.md").read_text(encoding="utf-8")
    assert "### 6. The floor" in table
    assert table in completed.stdout


@pytest.mark.parametrize("system", ["tickwork-sqlite", "tickwork-postgresql"])
def test_idle_wakeup(system: str, request: pytest.FixtureRequest) -> None:
    _needs(system, request)
    document = _run(
        "benchmarks.idle", "--systems", system, "--jobs", "5", "--wakeups", "5", "--warmup", "1"
    )
    case = _only_case(document, "idle", system)
    assert case["status"] == "complete"
    assert case["wakeups"] == 5
    assert case["handed_over"] == 0
    assert 0 <= case["cpu_ms_median"] <= case["cpu_ms_p90"] <= case["cpu_ms_max"]
    assert case["statements_per_wakeup"] == 1


@pytest.mark.usefixtures("postgres_url")  # skips, or fails in CI, without the server
def test_insert_paths() -> None:
    document = _run("benchmarks.insert_paths", "--jobs", "3,20", "--repeat", "1")
    assert document["workload"] == "insert-paths"
    assert {(batch["rows"], batch["path"]) for batch in document["batches"]} == {
        (rows, path)
        for rows in (3, 20)
        for path in (
            "unnest_every_column_an_array",
            "unnest_constants_once",
            "copy_to_temp_then_insert",
        )
    }
    assert all(batch["wall_ms"] > 0 for batch in document["batches"])


@pytest.mark.serial  # the engine must start within --lead; every slot must be executed
@pytest.mark.parametrize("executor", ["immediate", "thread"])
def test_steady(executor: str, request: pytest.FixtureRequest) -> None:
    _needs("tickwork-postgresql", request)
    document = _run(
        "benchmarks.steady",
        *("--jobs", "120", "--executors", executor, "--workers", "4"),
        *("--duration", "4", "--window", "2", "--lead", "2"),
    )
    case = _only_case(document, "steady", "tickwork-postgresql")
    assert case["executor"] == executor
    assert case["slots_due"] == 8  # 2 jobs a second: first slots at 0, 0, 1, 1, 2, 2, 3, 3 s
    assert case["rows_by_status"] == {"succeeded": 8}, case
    assert case["status"] == "complete"
    assert [w["from_second"] for w in case["lateness_windows"]] == [0, 2]
    assert all(w["runs_started"] == 4 for w in case["lateness_windows"])
    assert case["server_autovacuum"] in ("on", "off")
    assert bool(case["notes"]) is (case["server_autovacuum"] == "off")
