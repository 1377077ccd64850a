"""Test matrix: each leg is one interpreter with one Django series.

``make test`` runs every session below.  Interpreters are found on PATH or, on
machines that keep them under pyenv, in ``$(pyenv root)/versions``.  Each test
leg runs the whole suite on several processes (pytest-xdist), then the tests
marked ``serial`` alone; only the Python 3.11 leg measures coverage, and only
it runs the tests marked ``one_leg`` (heavy ones whose subject does not change
with the interpreter or Django: the simulator, the chaos and outage tests, the
benchmarks' smoke runs), which would add about four minutes to the other leg.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


def _works(executable: str) -> bool:
    try:
        subprocess.run([executable, "-c", "pass"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


def interpreter(version: str) -> str:
    """Path of a working ``python{version}``: PATH first, then pyenv's versions."""
    found = shutil.which(f"python{version}")
    if found and _works(found):
        return found
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for candidate in sorted((root / "versions").glob(f"{version}.*/bin/python"), reverse=True):
        if _works(str(candidate)):
            return str(candidate)
    return f"python{version}"  # nox reports the missing interpreter


PY311 = interpreter("3.11")
PY313 = interpreter("3.13")
# celery: Redis and RabbitMQ clients too; bench: the peers, for tests/benchmarks'
# smoke run of the benchmark scripts and the celery-beat import command's tests.
EXTRAS = ".[test,sqlalchemy,postgres,celery,bench]"


def _bench_requirement(name: str) -> str:
    """The requirement the ``bench`` extra gives for the peer ``name``."""
    with (Path(__file__).parent / "pyproject.toml").open("rb") as pyproject:
        extras = tomllib.load(pyproject)["project"]["optional-dependencies"]
    return next(spec for spec in extras["bench"] if spec.lower().startswith(name.lower()))


# django-celery-beat (newest: 2.9) requires Django < 6.1, so the Django 6 leg
# installs the bench extra's other peer alone; tests/peers.py skips the tests of
# the celery-beat peer there, and the Django 5.2 leg runs them.
DJANGO6 = "Django>=6.1,<7"
LEGS = {
    "py311-django52": (PY311, ["-e", EXTRAS, "Django>=5.2,<5.3"]),
    "py313-django6": (
        PY313,
        [
            "-e",
            ".[test,sqlalchemy,postgres,celery]",
            _bench_requirement("APScheduler"),
            DJANGO6,
        ],
    ),
}


#: pytest-xdist processes per leg.  Most tests wait (on PostgreSQL, a broker, a
#: worker process) more than they compute, so more processes than cores pays.
WORKERS = os.environ.get("TICKWORK_TEST_WORKERS", "3")


def _tests(
    session: nox.Session,
    requirements: list[str],
    *,
    coverage: bool,
    env: dict[str, str] | None = None,
    one_leg: bool = True,
) -> None:
    """The suite in two runs: every test not marked ``serial`` on WORKERS processes,
    then the ``serial`` ones (those that bound a wall-clock time or need an idle
    machine) alone.  With ``coverage``, branch coverage of both, one report.
    Without ``one_leg``, the tests marked ``one_leg`` are left out."""
    session.install(*requirements)
    if DJANGO6 in requirements:  # a reused environment may still hold it
        session.run("python", "-m", "pip", "uninstall", "--quiet", "--yes", "django-celery-beat")
    env = {"PYTHONWARNINGS": "error", **(env or {})}
    # Arguments of one's own (nox -s ... -- tests/unit) may select nothing in a run.
    ok = [0, 5] if session.posargs else [0]
    cover = ["--cov", "--cov-report="] if coverage else []
    more = "" if one_leg else " and not one_leg"
    # The slowest tests of each run, listed in CI's log: where a long CI goes.
    slowest = ["--durations", "25", "--durations-min", "5"]
    session.run(
        "pytest", "-n", WORKERS, "--dist", "loadgroup", "-m", "not serial" + more,
        *slowest, *cover, *session.posargs, env=env, success_codes=ok,
    )  # fmt: skip
    report = ["--cov", "--cov-append", "--cov-report=term"] if coverage else []
    session.run(
        "pytest", "-p", "no:xdist", "-m", "serial" + more, *slowest, *report,
        *session.posargs, env=env, success_codes=ok,
    )  # fmt: skip


@nox.session(name="tests-py311-django52", python=PY311)
def tests_py311_django52(session: nox.Session) -> None:
    """Python 3.11 with Django 5.2 LTS, with branch coverage (the leg that runs every test),
    and 100 brief simulation seeds on SQLite (tests/simulation)."""
    sqlite_seeds = {"TICKWORK_SIM_SQLITE_SEEDS": os.environ.get("TICKWORK_SIM_SQLITE_SEEDS", "100")}
    _tests(session, LEGS["py311-django52"][1], coverage=True, env=sqlite_seeds)


@nox.session(name="tests-py313-django6", python=PY313)
def tests_py313_django6(session: nox.Session) -> None:
    """Python 3.13 with the newest Django 6.x, without coverage, without the ``one_leg`` tests."""
    _tests(session, LEGS["py313-django6"][1], coverage=False, one_leg=False)


@nox.session(python=PY311)
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy --strict on the core and the simulator."""
    # pytest: the simulator's tests are type-checked too (mypy's files).
    session.install(
        "-e", ".[lint,django,sqlalchemy,postgres,sentry,metrics,calendars,solar]", "pytest>=8.3"
    )
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(python=PY311)
def docs(session: nox.Session) -> None:
    """Build the documentation with warnings as errors."""
    session.install("-e", ".[docs]")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session(python=PY313, default=False)
def bench(session: nox.Session) -> None:
    """Tickwork beside django-celery-beat and APScheduler 3 (``make bench``, not ``make test``)."""
    session.install("-e", ".[sqlalchemy,postgres,metrics,bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)
