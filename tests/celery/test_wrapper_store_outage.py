"""The wrapper task when the worker cannot reach the store before the run started.

Run by Celery itself, eagerly (``task.apply``), in this process: the first
attempt finds the store unavailable and asks Celery to deliver it again, which
eager mode does at once.
"""

from __future__ import annotations

from tests.celery.conftest import require_celery

require_celery()

from datetime import UTC, datetime

import pytest
from celery import Celery

import scheduler.workers.celery
from scheduler.errors import StoreUnavailable
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import NewRun, Run, RunStatus
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import MemoryStore

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


class BlinkingStore(MemoryStore):
    """Unavailable for the first ``outages`` run look-ups, then fine."""

    def __init__(self, outages: int) -> None:
        super().__init__()
        self.outages = outages

    def get_run(self, run_id: int) -> Run:
        if self.outages:
            self.outages -= 1
            raise StoreUnavailable("database restarting")
        return super().get_run(run_id)


@pytest.mark.parametrize("outages", [1, 3])
def test_a_store_outage_before_the_start_is_retried_by_celery(outages: int) -> None:
    store = BlinkingStore(outages)
    registry = TaskRegistry()
    registry.register(lambda: "done", name="t.done")
    store.save_job(
        JobSpec.build(name="j", task="t.done", every="1h", source=JobSource.CODE), now=T0
    )
    run = store.add_run("j", NewRun(scheduled_for=T0, due_at=T0))
    app = Celery("outage", broker="memory://", set_as_current=False)
    scheduler.workers.celery.install(app, store_factory=lambda: store, registry=registry)
    result = app.tasks[scheduler.workers.celery.WRAPPER_TASK].apply(args=[run.id])
    assert result.successful()
    done = store.get_run(run.id)
    assert (done.status, done.result) == (RunStatus.SUCCEEDED, "done")
    assert store.outages == 0
