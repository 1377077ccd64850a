"""``tickwork run --metrics-port``: a port in use, or the extra missing, stops it with exit 2."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from .process import REPO

SCHEDULES = """
jobs:
  due: {task: json.dumps, every: 1s}
"""


def tickwork(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """``tickwork ARGS`` in a new interpreter, after running ``prelude`` there."""
    code = f"{prelude}\nimport sys\nfrom scheduler.cli import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def test_a_port_in_use_exits_2_and_claims_nothing(tmp_path: Path) -> None:
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(SCHEDULES)
    database = tmp_path / "state.sqlite3"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = tickwork(
            "run", "--database", f"sqlite:///{database}", "--schedules", str(schedules),
            "--allow", "json.*", "--metrics-port", str(port), "--duration", "5",
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"tickwork: error: cannot serve metrics on 127.0.0.1:{port}: " in done.stderr
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT count(*) FROM scheduler_run").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM scheduler_job").fetchone() == (0,)


def test_without_prometheus_client_the_error_names_the_extra(tmp_path: Path) -> None:
    done = tickwork(
        "run", "--database", f"sqlite:///{tmp_path / 'state.sqlite3'}", "--metrics-port", "0",
        "--once", prelude="import sys; sys.modules['prometheus_client'] = None",
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "pip install 'tickwork[metrics]'" in done.stderr


def test_a_port_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    done = tickwork("run", "--metrics-port", "70000")
    assert done.returncode == 2
    assert "--metrics-port: not a port number (0-65535): '70000'" in done.stderr


def test_without_a_metrics_port_prometheus_client_is_never_imported(tmp_path: Path) -> None:
    done = tickwork(
        "run", "--database", f"sqlite:///{tmp_path / 'state.sqlite3'}", "--once",
        prelude="import sys; sys.modules['prometheus_client'] = None",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
