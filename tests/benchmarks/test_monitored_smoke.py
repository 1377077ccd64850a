"""``python -m benchmarks.monitored`` runs at a tiny size and prints its JSON line.

The numbers are not checked (tests assert behaviour, not speed): the shape
is, and that the notifier heard every run of the monitored herd.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_monitored_herd_runs_and_reports_a_ratio() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.monitored", "--jobs", "30", "--rounds", "1",
         "--systems", "tickwork-sqlite", "--lead", "0.5"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["workload"] == "herd-monitored"
    assert (result["system"], result["jobs"], result["rounds"]) == ("tickwork-sqlite", 30, 1)
    assert result["ratio"] > 0
    assert len(result["all_seconds"]["off"]) == len(result["all_seconds"]["on"]) == 1
