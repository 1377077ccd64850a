"""The core never imports Django, SQLAlchemy or Celery, nor prometheus_client until asked to."""

from __future__ import annotations

import subprocess
import sys

BLOCKER = """
import importlib.abc, sys
BLOCKED = ("django", "sqlalchemy", "celery", "kombu", "psycopg", "prometheus_client")

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"the core imported {name}")
        return None

sys.meta_path.insert(0, Block())
import scheduler, scheduler.schedules, scheduler.config, scheduler.model.jobs
import scheduler.model.policies, scheduler.cli, scheduler.clock, scheduler.errors
import scheduler.schedules.durations, scheduler.tasks.registry, scheduler.executors.invoke
import scheduler.engine, scheduler.engine.planning, scheduler.engine.recording
import scheduler.executors.base, scheduler.executors.immediate, scheduler.executors.thread
import scheduler.stores.base, scheduler.stores.memory, scheduler.stores.rows
import scheduler.testing, scheduler.cli.standalone, scheduler.config.reconcile
import scheduler.cli.commands, scheduler.model.runs, scheduler.tasks.defer
import scheduler.workers, scheduler.workers.store, scheduler.workers.heartbeats
import scheduler.workers.run, scheduler.compat
import scheduler.cli.run, scheduler.cli.metrics, scheduler.monitoring.serving
print(sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED))
"""


def test_core_imports_with_integrations_blocked() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_blocker_would_catch_an_import() -> None:
    # The guard is real: importing an integration under it fails.
    code = BLOCKER.replace("import scheduler,", "import django, scheduler,")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "the core imported django" in result.stderr
