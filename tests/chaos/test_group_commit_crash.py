"""A replica killed between a run's end and the group commit that would record it.

With group commit, the end of a run waits (here: for seconds) to be written
with others.  Its start was written before the task ran (a start is always
waited for), so the run is ``running`` in the table, claimed by a replica that
no longer heartbeats: recovery by another replica records it ``lost`` and
retries it by its job's policy, as for a run its replica was executing when it
died.  Nothing is left ``running`` for ever.

Real PostgreSQL, a real child process, SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scheduler.engine.recording import retry_for
from scheduler.model.runs import RunStatus
from scheduler.stores.sqlalchemy import SQLAlchemyStore

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from scheduler.engine import Engine, EngineConfig
    from scheduler.executors.thread import ThreadExecutor
    from scheduler.model.jobs import JobSpec
    from scheduler.stores.sqlalchemy import SQLAlchemyStore
    from scheduler.tasks.registry import TaskRegistry

    url, marker = sys.argv[1], Path(sys.argv[2])
    registry = TaskRegistry()
    registry.register(lambda: marker.write_text("ended"), name="tests.mark")
    store = SQLAlchemyStore(url)
    now = datetime.now(UTC)
    first = now + timedelta(seconds=2)  # its first slot; the next is an hour later
    spec = JobSpec.build(
        name="mark", task="tests.mark", every="1h", retries=1, start=first - timedelta(hours=1)
    )
    store.save_job(spec, now=now)
    engine = Engine(
        store,
        {"default": ThreadExecutor(max_workers=1)},
        registry=registry,
        replica_id="doomed",
        # No wake-up and no timer writes the end within the test's seconds.
        config=EngineConfig(poll_interval=600.0, group_commit=10.0),
    )
    engine.run()
    """
)


def test_a_run_whose_end_was_never_written_is_recovered_lost_and_retried(
    postgres_url: str, tmp_path: Path
) -> None:
    store = SQLAlchemyStore(postgres_url)
    store.create_schema()
    marker = tmp_path / "ended"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, postgres_url, str(marker)], env=env, cwd=REPO
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the scheduler process died on its own"
            assert time.monotonic() < deadline, "the run never executed"
            time.sleep(0.05)
        time.sleep(0.5)  # the executor has reported the end: gathered, not written
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    try:
        [run] = store.list_runs(job_name="mark")
        assert (run.status, run.replica_id) == (RunStatus.RUNNING, "doomed")
        assert run.started_at is not None
        later = datetime.now(UTC) + timedelta(minutes=5)
        report = store.recover(now=later, stale_after=timedelta(minutes=1), retry=retry_for)
        assert report.lost  # the recovery names what it did
        [retry, lost] = store.list_runs(job_name="mark")
        assert (lost.id, lost.status) == (run.id, RunStatus.LOST)
        assert lost.finished_at == later
        assert (retry.attempt, retry.status) == (2, RunStatus.PENDING)
    finally:
        store.dispose()
