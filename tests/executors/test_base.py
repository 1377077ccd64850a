"""Building executors from settings, and checking jobs against their capabilities."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from scheduler.executors.base import (
    ExecutorCapabilities,
    ExecutorConfigError,
    build_executor,
    capability_problems,
)
from scheduler.executors.immediate import ImmediateExecutor
from scheduler.executors.thread import ThreadExecutor
from scheduler.model.jobs import JobSpec

from .support import SetClock

THREAD = "scheduler.executors.thread.ThreadExecutor"


class NoClock:
    def __init__(self) -> None: ...


class NotAnExecutor:
    def __init__(self, *, clock: object) -> None:
        self.clock = clock


class Picky:
    """Takes any option, and raises TypeError for a wrong one, like many third-party classes."""

    def __init__(self, **options: Any) -> None:
        raise TypeError(f"unexpected {sorted(options)}")


NOT_CALLABLE = 42


def test_capabilities_default_to_promising_nothing() -> None:
    caps = ExecutorCapabilities()
    assert not any(dataclasses.astuple(caps))
    with pytest.raises(dataclasses.FrozenInstanceError):
        caps.supports_queue = True  # type: ignore[misc]


def test_build_a_thread_executor_with_options() -> None:
    clock = SetClock()
    executor = build_executor(
        "default", {"BACKEND": THREAD, "OPTIONS": {"max_workers": 3}}, clock=clock
    )
    assert isinstance(executor, ThreadExecutor)
    assert executor.max_workers == 3
    assert executor.shutdown(wait=True, timeout=1) == []


@pytest.mark.parametrize(
    "config",
    [
        {"BACKEND": "scheduler.executors.immediate.ImmediateExecutor"},
        {"BACKEND": "scheduler.executors.immediate.ImmediateExecutor", "OPTIONS": None},
    ],
)
def test_build_without_options(config: Mapping[str, Any]) -> None:
    assert isinstance(build_executor("dev", config, clock=SetClock()), ImmediateExecutor)


HERE = __name__


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (["BACKEND", THREAD], "executor 'x': expected a dict with 'BACKEND'"),
        (
            {"BACKEND": THREAD, "OPTION": {}},
            "executor 'x': unknown keys 'OPTION'; expected 'BACKEND' and 'OPTIONS'",
        ),
        ({"OPTIONS": {}}, "executor 'x': BACKEND: expected a dotted path .* got None"),
        (
            {"BACKEND": "ThreadExecutor"},
            "executor 'x': BACKEND: expected a dotted path .* got 'ThreadExecutor'",
        ),
        (
            {"BACKEND": "scheduler.executors.nope.Nope"},
            "executor 'x': BACKEND 'scheduler.executors.nope.Nope': "
            "cannot import module 'scheduler.executors.nope': ModuleNotFoundError",
        ),
        (
            {"BACKEND": "scheduler.executors.thread.Nope"},
            "module 'scheduler.executors.thread' has no attribute 'Nope'",
        ),
        (
            {"BACKEND": f"{HERE}.NOT_CALLABLE"},
            "'NOT_CALLABLE' is of type int, not an executor class",
        ),
        (
            {"BACKEND": THREAD, "OPTIONS": ["max_workers"]},
            "executor 'x': OPTIONS: expected a dict with string keys",
        ),
        (
            {"BACKEND": THREAD, "OPTIONS": {"clock": None}},
            "executor 'x': OPTIONS: 'clock' cannot be configured",
        ),
        (
            {"BACKEND": THREAD, "OPTIONS": {"max_wrkers": 8}},
            "executor 'x': OPTIONS: .*ThreadExecutor does not accept 'max_wrkers'; "
            "its options are: 'max_workers', 'timeout_check_interval'",
        ),
        (
            {"BACKEND": THREAD, "OPTIONS": {"max_workers": 0}},
            "executor 'x': OPTIONS: max_workers: expected an integer of at least 1, got 0",
        ),
        ({"BACKEND": f"{HERE}.NoClock"}, "does not take a clock= argument"),
        (
            {"BACKEND": f"{HERE}.Picky"},
            "Picky rejected its OPTIONS: TypeError: unexpected \\['clock'\\]",
        ),
        ({"BACKEND": f"{HERE}.NotAnExecutor"}, "built a NotAnExecutor, which is not an Executor"),
    ],
)
def test_build_errors_name_the_executor_and_the_problem(config: Any, message: str) -> None:
    with pytest.raises(ExecutorConfigError, match=message):
        build_executor("x", config, clock=SetClock())


def test_an_import_error_is_chained() -> None:
    with pytest.raises(ExecutorConfigError) as caught:
        build_executor("x", {"BACKEND": "scheduler.executors.nope.Nope"}, clock=SetClock())
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


def spec(**options: Any) -> JobSpec:
    return JobSpec.build(name="sync", task="app.tasks.sync", every="1h", **options)


def test_a_plain_job_fits_every_executor() -> None:
    assert capability_problems(spec(), "dev", ImmediateExecutor()) == []
    assert capability_problems(spec(), "default", ThreadExecutor()) == []


def test_a_timeout_needs_an_executor_that_enforces_or_observes_it() -> None:
    job = spec(timeout=timedelta(minutes=5))
    assert capability_problems(job, "default", ThreadExecutor()) == []
    assert capability_problems(job, "dev", ImmediateExecutor()) == [
        "job 'sync': timeout is set, but executor 'dev' (immediate) can neither stop a run "
        "nor notice that it ran too long; the timeout is ignored"
    ]


def test_a_queue_needs_an_executor_with_queues() -> None:
    assert capability_problems(spec(queue="slow"), "default", ThreadExecutor()) == [
        "job 'sync': queue 'slow' is set, but executor 'default' (thread) has no queues; "
        "the queue is ignored"
    ]
