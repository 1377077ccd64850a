"""Fixtures of the executor contract: a world per kind of executor, and a task log per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .worlds import WORLDS, Setup, TaskLog, World


@pytest.fixture(
    scope="module",
    params=[pytest.param(name, marks=kind.marks, id=name) for name, kind in WORLDS.items()],
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """Each kind of executor in turn, with its store, engine and worker, built once per
    module: pytest runs a module's tests grouped by world, one world alive at a time."""
    name: str = request.param
    setup = Setup(request=request, tmp=tmp_path_factory.mktemp(name))
    with WORLDS[name].build(setup) as made:
        yield made


@pytest.fixture
def task_log(tmp_path: Path) -> TaskLog:
    """The file this test's tasks append to, one line per execution."""
    return TaskLog(tmp_path / "task.log")
