"""One run's work on the asyncio executor's loop: a coroutine task, or a plain function
on a thread of its own; either can be told to stop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from ..clock import Clock
from ..model.runs import ClaimedRun, Outcome
from ..tasks.registry import RegisteredTask
from .interruptible import InterruptibleCall
from .invoke import execute, execute_async, failure

__all__ = ["Work", "start_work"]


@dataclass(frozen=True, slots=True)
class Work:
    """A started run: ``future`` gets its outcome, or ``None`` once it was stopped."""

    future: asyncio.Future[Outcome | None]
    #: Ask the work to stop: cancel the coroutine, or interrupt the thread.
    stop: Callable[[], object]


def start_work(claimed: ClaimedRun, task: RegisteredTask, clock: Clock) -> Work:
    """Start ``task`` for ``claimed`` in the running loop (coroutine functions) or on a
    thread of its own (anything else)."""
    if task.is_async:
        coroutine = asyncio.ensure_future(_stoppable(claimed, task, clock))
        return Work(future=coroutine, stop=coroutine.cancel)
    call = InterruptibleCall(
        lambda: _in_thread(claimed, task, clock), name=f"tickwork-asyncio-run-{claimed.run.id}"
    )
    return Work(future=call.start(), stop=call.interrupt)


async def _stoppable(claimed: ClaimedRun, task: RegisteredTask, clock: Clock) -> Outcome | None:
    try:
        return await execute_async(claimed, task, clock=clock)
    except asyncio.CancelledError:
        return None


def _in_thread(claimed: ClaimedRun, task: RegisteredTask, clock: Clock) -> Outcome:
    try:
        return execute(claimed, task, clock=clock)
    except KeyboardInterrupt as error:  # raised by the task: Ctrl-C never reaches this thread
        return failure(error, finished_at=clock.now())
