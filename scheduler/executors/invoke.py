"""Running one claimed run's task and turning whatever happens into an :class:`Outcome`.

Every executor that runs tasks in this process goes through :func:`execute`, so
the rules are the same everywhere:

* The task is called with the job's ``args`` and ``kwargs`` (deep copies: a
  task cannot change the job definition it was given), plus ``context=`` when
  it was registered with ``takes_context``.
* A coroutine function runs to completion in a fresh event loop; when
  :func:`execute` is itself called from inside a running loop, that fresh
  loop runs in a helper thread, since a thread can run only one loop.
* Anything the task raises is a ``failed`` run, including :class:`SystemExit`
  (a task calling ``sys.exit()`` must not stop the scheduler) and
  :class:`asyncio.CancelledError`.  Only :class:`KeyboardInterrupt` goes
  through: it is the operator's Ctrl-C, and swallowing it would make a
  scheduler running a long task impossible to interrupt.
* The result must be JSON (no NaN or infinity) and at most
  ``max_result_bytes`` once encoded as UTF-8; otherwise the run fails with a
  message saying why, rather than crashing the executor or the store.  The
  recorded result is what JSON gives back (tuples become lists).
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import math
import os
import socket
import traceback
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from ..clock import Clock
from ..model.jobs import JSONValue
from ..model.runs import ClaimedRun, Outcome, RunContext, RunStatus
from ..tasks.registry import RegisteredTask

__all__ = [
    "DEFAULT_MAX_RESULT_BYTES",
    "execute",
    "execute_async",
    "failure",
    "returned",
    "worker_id",
]

#: The default cap on an encoded result: enough for a summary, not a data dump.
DEFAULT_MAX_RESULT_BYTES = 65_536

T = TypeVar("T")


def execute(
    claimed: ClaimedRun,
    task: RegisteredTask,
    *,
    clock: Clock,
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
) -> Outcome:
    """Run ``task`` for ``claimed`` and describe how it ended; never raises for task errors.

    ``finished_at`` comes from ``clock``.  Only :class:`KeyboardInterrupt`
    propagates (see the module docstring).
    """
    try:
        result = _call(claimed, task)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # SystemExit and CancelledError are failed runs too
        return failure(error, finished_at=clock.now())
    return _succeeded(result, clock=clock, max_result_bytes=max_result_bytes)


async def execute_async(
    claimed: ClaimedRun,
    task: RegisteredTask,
    *,
    clock: Clock,
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
) -> Outcome:
    """:func:`execute` inside a running event loop: the task's awaitable is awaited
    in this loop rather than in a fresh one.

    For coroutine functions: a plain function would run in the loop's thread and
    block it.  A :class:`asyncio.CancelledError` raised because this coroutine
    was cancelled (a timeout, a shutdown) propagates; one the task raises on
    its own is a ``failed`` run, as in :func:`execute`.
    """
    try:
        result = _start(claimed, task)
        if inspect.isawaitable(result):
            result = await result
    except KeyboardInterrupt:
        raise
    except asyncio.CancelledError as error:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
        return failure(error, finished_at=clock.now())
    except BaseException as error:  # SystemExit too, as in execute()
        return failure(error, finished_at=clock.now())
    return _succeeded(result, clock=clock, max_result_bytes=max_result_bytes)


def returned(
    result: Any, *, clock: Clock, max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
) -> Outcome:
    """The outcome of a task that returned ``result`` somewhere else (a Celery
    task sent by name): ``succeeded`` with the result as JSON gives it back, or
    ``failed`` when it is not JSON or too big, as :func:`execute` would."""
    return _succeeded(result, clock=clock, max_result_bytes=max_result_bytes)


def failure(error: BaseException, *, finished_at: datetime) -> Outcome:
    """A ``failed`` outcome for ``error``, with its type, message and traceback."""
    return Outcome(
        status=RunStatus.FAILED,
        finished_at=finished_at,
        error=f"{type(error).__name__}: {error}",
        traceback="".join(traceback.format_exception(error)),
    )


def worker_id() -> str:
    """Who runs the task, as recorded on the run: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _call(claimed: ClaimedRun, task: RegisteredTask) -> Any:
    result = _start(claimed, task)
    if inspect.isawaitable(result):
        return _run_awaitable(result)
    return result


def _start(claimed: ClaimedRun, task: RegisteredTask) -> Any:
    """Call the task with the job's arguments; what it returns, awaitable or not."""
    args = copy.deepcopy(claimed.job.args)
    kwargs: dict[str, Any] = copy.deepcopy(claimed.job.kwargs)
    if task.takes_context:
        if "context" in kwargs:
            raise TypeError(
                f"task {task.name!r} takes its run context as 'context', "
                "but the job's kwargs already have a 'context' key"
            )
        kwargs["context"] = _context(claimed)
    return task.func(*args, **kwargs)


def _context(claimed: ClaimedRun) -> RunContext:
    run = claimed.run
    return RunContext(
        run_id=run.id,
        job_name=run.job_name,
        scheduled_for=run.scheduled_for,
        attempt=run.attempt,
        trigger=run.trigger,
    )


def _run_awaitable(awaitable: Awaitable[T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop in this thread: the common case
        return asyncio.run(_await(awaitable))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tickwork-async") as helper:
        return helper.submit(asyncio.run, _await(awaitable)).result()


async def _await(awaitable: Awaitable[T]) -> T:
    # asyncio.run() takes only coroutines; a callable object may return any awaitable.
    return await awaitable


def _succeeded(result: Any, *, clock: Clock, max_result_bytes: int) -> Outcome:
    try:
        encoded = json.dumps(result, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as error:
        reason = _why_not_json(result) or f"{type(error).__name__}: {error}"
        return _rejected(f"result is not JSON: {reason}", clock=clock)
    size = len(encoded.encode("utf-8"))
    if size > max_result_bytes:
        return _rejected(
            f"result is {size} bytes, more than the limit of {max_result_bytes}", clock=clock
        )
    normal: JSONValue = json.loads(encoded)
    return Outcome(status=RunStatus.SUCCEEDED, finished_at=clock.now(), result=normal)


def _rejected(error: str, *, clock: Clock) -> Outcome:
    return Outcome(status=RunStatus.FAILED, finished_at=clock.now(), error=error)


def _why_not_json(value: object, depth: int = 0) -> str | None:
    """The first reason ``value`` is not JSON, in our words (json's change between versions)."""
    if depth > 100:
        return "it is nested too deeply (or contains itself)"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a JSON number"
    if value is None or isinstance(value, str | int | float):
        return None
    if isinstance(value, list | tuple):
        return next(filter(None, (_why_not_json(item, depth + 1) for item in value)), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str | int | float | bool) and key is not None:
                return f"a {type(key).__name__} is not a JSON object key"
            reason = _why_not_json(item, depth + 1)
            if reason:
                return reason
        return None
    return f"a {type(value).__name__} is not a JSON value"
