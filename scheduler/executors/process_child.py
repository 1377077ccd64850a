"""The child side of the process executor: what runs inside each pool process.

A child is started with ``spawn`` or ``forkserver`` (never a ``fork`` of the
threaded scheduler), so it begins with a fresh interpreter: it knows no task
until it imports one.  For each run the parent sends a :class:`ChildRun`
naming the task and the module its function was defined in; the child imports
that module (which runs its ``@job`` decorators) and resolves the name through
its own task registry, with the parent's allow-list patterns, so the child
runs only what the parent's registry would have run.  It then calls the task
with :func:`~scheduler.executors.invoke.execute` and sends back the outcome as
JSON-safe values.

A child leaves the terminal's process group (Ctrl-C is the scheduler's to
handle, not the children's), applies the memory limit to itself, and exits
when its parent goes away, even in the middle of a task.
"""

from __future__ import annotations

import importlib
import os
import resource
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from ..clock import SystemClock
from ..errors import SchedulerError, TaskNotRegistered
from ..model.runs import ClaimedRun, Outcome, RunStatus
from ..tasks.registry import RegisteredTask
from ..tasks.registry import registry as default_registry
from .invoke import execute, failure

__all__ = ["ChildConfig", "ChildRun", "child_main", "encode_outcome"]

#: The exit code of a child whose parent went away.
EXIT_ORPHANED = 70


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildConfig:
    """What every child of one executor is started with."""

    sys_path: tuple[str, ...]
    #: RLIMIT_AS in bytes, or ``None`` for no limit.
    max_memory: int | None
    #: Dotted path of a callable to call once when the child starts (``django.setup``).
    initializer: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildRun:
    """One run for a child: the claimed run, and where its task comes from."""

    claimed: ClaimedRun
    task_name: str
    #: The module the parent's task function was defined in.
    module: str
    takes_context: bool
    #: The allow-list patterns of the parent's task registry.
    patterns: tuple[str, ...]
    max_result_bytes: int
    #: The job's own memory limit in bytes, for this run only, or ``None``.
    max_memory: int | None = None


def child_main(conn: Connection, lifeline: Connection, config: ChildConfig) -> None:
    """Run what the parent sends on ``conn`` until it sends ``None`` or goes away:
    ``lifeline`` is a pipe only the parent can write to, which closes when it dies."""
    _detach(lifeline)
    problem = _prepare(config)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent closed its end
            return
        if message is None:
            return
        outcome = _run(message, problem)
        conn.send(encode_outcome(outcome))


def encode_outcome(outcome: Outcome) -> dict[str, Any]:
    """``outcome`` as plain values for the pipe; the parent stamps ``finished_at``."""
    return {
        "status": outcome.status.value,
        "result": outcome.result,
        "error": outcome.error,
        "traceback": outcome.traceback,
    }


def _detach(lifeline: Connection) -> None:
    os.setpgid(0, 0)  # Ctrl-C in a terminal reaches the scheduler, not its children
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(lifeline,), daemon=True).start()


def _watch_parent(lifeline: Connection) -> None:
    # Not the parent pid: a forkserver child's parent is the forkserver, which
    # outlives the scheduler as long as any of its children lives.
    lifeline.poll(None)  # returns at EOF: the parent closed it, or died
    os._exit(EXIT_ORPHANED)


def _prepare(config: ChildConfig) -> str | None:
    """Set the child up; what went wrong, in words, or ``None``."""
    for path in reversed(config.sys_path):
        if path not in sys.path:
            sys.path.insert(0, path)
    try:
        if config.max_memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (config.max_memory, config.max_memory))
        if config.initializer:
            _call_initializer(config.initializer)
    except Exception as error:  # every run of this child reports it
        return f"the process executor's child could not start: {type(error).__name__}: {error}"
    return None


def _call_initializer(path: str) -> None:
    module_name, _, attribute = path.rpartition(".")
    initializer = getattr(importlib.import_module(module_name), attribute)
    initializer()


def _run(message: ChildRun, problem: str | None) -> Outcome:
    clock = SystemClock()
    if problem is not None:
        return Outcome(status=RunStatus.FAILED, finished_at=clock.now(), error=problem)
    try:
        task = _resolve(message)
    except Exception as error:
        outcome = failure(error, finished_at=clock.now())
        return Outcome(
            status=RunStatus.FAILED,
            finished_at=outcome.finished_at,
            error=f"task {message.task_name!r} cannot be loaded in the child process: "
            f"{outcome.error}",
            traceback=outcome.traceback,
        )
    try:
        with _memory_limit(message.max_memory):
            return execute(
                message.claimed, task, clock=clock, max_result_bytes=message.max_result_bytes
            )
    except KeyboardInterrupt as error:  # raised by the task itself: a failed run
        return failure(error, finished_at=clock.now())


@contextmanager
def _memory_limit(limit: int | None) -> Iterator[None]:
    """Lower the address-space limit to ``limit`` for the block (never above the
    child's own hard limit, the executor's ``max_memory``), then restore it."""
    if limit is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _resolve(message: ChildRun) -> RegisteredTask:
    """The task, resolved here as the parent's registry resolved it there."""
    for pattern in message.patterns:
        default_registry.allow(pattern)
    try:
        importlib.import_module(message.module)  # runs the module's @job decorators
    except ImportError as error:
        raise TaskNotRegistered(
            f"its module {message.module!r} cannot be imported: {error}"
        ) from error
    task = default_registry.resolve(message.task_name)
    if task.takes_context != message.takes_context:
        raise SchedulerError(
            f"it takes its context in the scheduler (takes_context={message.takes_context}) "
            f"but not in the child (takes_context={task.takes_context})"
        )
    return task
