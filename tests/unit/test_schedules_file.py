"""SchedulesFile: a change the store could not take now is tried again, not forgotten."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduler.config.reconcile import SchedulesFile
from scheduler.errors import StoreUnavailable
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.stores.base import SyncReport
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import MemoryStore

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
JOB = "jobs:\n  ping:\n    task: app.tasks.ping\n    every: {every}\n"


class DownOnce(MemoryStore):
    """A store whose next sync finds the database down, once."""

    down = False

    def sync_jobs(
        self, specs: Sequence[JobSpec], *, source: JobSource, now: datetime
    ) -> SyncReport:
        if self.down:
            self.down = False
            raise StoreUnavailable("database restarting")
        return super().sync_jobs(specs, source=source, now=now)


def test_a_change_made_while_the_store_was_down_is_applied_when_it_is_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(JOB.format(every="15m"))
    registry = TaskRegistry()
    registry.allow("app.tasks.*")
    store = DownOnce()
    watcher = SchedulesFile(path, store, registry)
    watcher.sync(NOW)
    path.write_text(JOB.format(every="5m"))
    os.utime(path, (1_800_000_000, 1_800_000_000))
    store.down = True
    with pytest.raises(StoreUnavailable):  # the engine backs off and ticks again
        watcher(NOW)
    watcher(NOW)
    assert store.get_job("ping").spec.describe() == "every 5m"
