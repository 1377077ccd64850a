"""benchmarks/executors.py runs at tiny sizes and prints the JSON it documents.

The numbers are not checked (speed is the benchmark's business), only what each
case must have done: every coroutine succeeded, every hanging run timed out and
left no child, every trivial run succeeded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_executors_benchmark_runs_and_prints_its_json() -> None:
    command = [
        sys.executable, str(ROOT / "benchmarks" / "executors.py"),
        "--coroutines", "5", "--sleep", "0.1", "--timeouts", "2", "--timeout", "0.5",
        "--runs", "5", "--workers", "2",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["asyncio"]["statuses"] == ["succeeded"]
    assert result["asyncio"]["wall_s"] >= 0.1
    timeouts = result["process_timeouts"]
    assert (timeouts["statuses"], timeouts["children_left"]) == (["timed_out"], 0)
    assert timeouts["timed_out_after_s"]["min"] >= 0.5
    assert result["process_throughput"]["statuses"] == ["succeeded"]
    assert result["process_throughput"]["children_used"] <= 2
