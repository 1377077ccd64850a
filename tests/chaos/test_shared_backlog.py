"""Two replicas (real ``tickwork run`` processes) share a 2,000-run backlog on PostgreSQL.

Each claims only what its 4 threads can start soon, so each starts a fair
part of the backlog; a replica stopped in the middle gives back the runs it
claimed and had not started, so only runs that were running can end
``cancelled`` (or ``lost``), and the other replica runs the rest, each once.
The drain itself is :func:`benchmarks.backlog.drain`, which ``make bench``
times.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.backlog import WORKERS, drain

RUNS = 2000

pytestmark = [pytest.mark.postgres, pytest.mark.serial, pytest.mark.one_leg]


def test_two_replicas_each_start_a_fair_share_of_a_backlog(
    postgres_url: str, tmp_path: Path
) -> None:
    result = drain(postgres_url, tmp_path, RUNS)
    assert result.statuses == {"succeeded": RUNS}, result
    assert result.runs_per_job == {1: RUNS}, result
    assert 0.35 <= result.share("a") <= 0.65, result
    assert 0.35 <= result.share("b") <= 0.65, result


def test_a_replica_stopped_mid_drain_gives_back_what_it_had_not_started(
    postgres_url: str, tmp_path: Path
) -> None:
    result = drain(postgres_url, tmp_path, RUNS, stop_after=1 / 3)
    assert result.runs_per_job == {1: RUNS}, result  # nothing fired twice, nothing lost
    stopped = result.statuses.get("cancelled", 0) + result.statuses.get("lost", 0)
    assert result.running_at_stop is not None
    assert stopped <= min(result.running_at_stop, WORKERS), result
    assert result.statuses["succeeded"] == RUNS - stopped, result
    assert result.share("b") > 0.5, result  # b ran the rest, what a gave back included
