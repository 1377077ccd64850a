"""benchmarks/reconcile.py and benchmarks/backlog.py run at tiny sizes and print their JSON.

The numbers are not checked (speed is the benchmark's business), only what
each case must have done: both passes of each reconcile measured, the second
finding every job unchanged; every run of the backlog ended once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres


def _run(*arguments: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    document: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return document


def test_the_reconcile_workload(postgres_url: str) -> None:
    document = _run("benchmarks.reconcile", "--jobs", "20")
    assert [case["kind"] for case in document["cases"]] == ["file", "api"]
    for case in document["cases"]:
        assert case["status"] == "ok", case
        assert (case["first"]["added"], case["first"]["unchanged"]) == (20, 0)
        assert (case["unchanged"]["added"], case["unchanged"]["unchanged"]) == (0, 20)
        assert case["unchanged"]["peak_rss_mib"] >= case["first"]["peak_rss_mib"] > 0


def test_the_backlog_workload(postgres_url: str) -> None:
    document = _run("benchmarks.backlog", "--jobs", "30")
    assert [case["scenario"] for case in document["cases"]] == ["share", "stop"]
    for case in document["cases"]:
        assert case["status"] == "ok", case
        assert case["runs_per_job"] == {"1": 30}, case
