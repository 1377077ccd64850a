"""``python -m benchmarks.dashboard`` runs at a tiny size on SQLite and prints its JSON line.

The times are not checked (tests assert behaviour, not speed); the shape is,
and the query count of every window's page.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_dashboard_benchmark_seeds_runs_and_times_each_window(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.dashboard", "--database", "sqlite", "--jobs", "20",
         "--runs", "2000", "--repeat", "1", "--workdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["workload"], result["database"], result["jobs"], result["runs"]) == (
        "dashboard",
        "sqlite",
        20,
        2000,
    )
    assert [page["window"] for page in result["pages"]] == ["24h", "7d", "30d"]
    # 11 queries on SQLite (10 on PostgreSQL, whose percentiles are one query);
    # one fewer when the window holds no failure (its runs need not be read).
    assert [page["queries"] for page in result["pages"]] == [10, 11, 11]
    for page in result["pages"]:
        assert page["median_seconds"] > 0
