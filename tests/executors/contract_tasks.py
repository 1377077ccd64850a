"""The tasks of the executor contract, registered with ``@job``.

Imported by the test process (which schedules them and, for the in-process
executors, runs them), by the contract's Celery worker
(``tests.executors.contract_celery_app``) and by its ``db_worker``
(``SCHEDULER["TASKS"]`` in ``tests.executors.contract_worker_settings``).  So
nothing here imports pytest or Django.

Every task appends one JSON line per execution to the file named by its
``log`` argument, with the pid of the process that ran it: the test reads what
the task itself observed (how often it ran, where, with which context), which
is independent of what the executor recorded in the run table.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from scheduler.model.runs import RunContext
from scheduler.tasks.registry import job

#: How long ``hang`` sleeps unless stopped: past the contract's 1 s timeout,
#: short enough that an executor that only observes timeouts is not held up long.
HANG_SECONDS = 2.5


def record(log: str, event: str, **fields: Any) -> None:
    """Append one line saying what happened, in which process, when (wall clock)."""
    line = json.dumps({"event": event, "pid": os.getpid(), "at": time.time(), **fields})
    with Path(log).open("a", encoding="utf-8") as out:  # one short write: atomic with O_APPEND
        out.write(line + "\n")


@job
def echo(a: int, b: int, *, log: str, extra: Any = None) -> dict[str, Any]:
    """Adds ``a`` and ``b`` and hands its JSON arguments back, to show they arrived intact."""
    record(log, "echo")
    return {"sum": a + b, "args": [a, b], "extra": extra}


@job
def explode(message: str, *, log: str) -> None:
    record(log, "explode")
    raise LookupError(message)


@job(takes_context=True)
def which_run(*, log: str, context: RunContext) -> dict[str, Any]:
    """Returns the context it was given, as JSON."""
    record(log, "which_run", run_id=context.run_id)
    return {
        "run_id": context.run_id,
        "job_name": context.job_name,
        "scheduled_for": context.scheduled_for.isoformat(),
        "attempt": context.attempt,
        "trigger": context.trigger.value,
    }


@job
async def add_later(a: int, b: int, *, log: str) -> dict[str, Any]:
    """A coroutine function: it must be awaited, not returned as a coroutine object."""
    await asyncio.sleep(0.01)
    record(log, "add_later")  # after the await: the coroutine ran to its end
    return {"sum": a + b}


@job(takes_context=True)
def fails_first(*, log: str, context: RunContext) -> dict[str, int]:
    """Fails its first attempt and succeeds on the next."""
    record(log, "fails_first", attempt=context.attempt)
    if context.attempt == 1:
        raise RuntimeError("the first attempt fails")
    return {"attempt": context.attempt}


@job
def not_json(*, log: str) -> dict[str, Any]:
    """Returns a set, which JSON has no word for."""
    record(log, "not_json")
    return {"tags": {"a", "b"}}


@job
def wait_for(*, log: str, release: str, limit: float = 30.0) -> str:
    """Runs until the file ``release`` exists (a state the test sets, not a time)."""
    record(log, "started")
    deadline = time.monotonic() + limit
    while not Path(release).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{release} never appeared")
        time.sleep(0.02)
    record(log, "finished")
    return "released"


@job
def hang(*, log: str, seconds: float = HANG_SECONDS) -> str:
    """Sleeps ``seconds`` in small steps (so an executor may interrupt it), then says so."""
    record(log, "started")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))
    record(log, "finished")
    return "woke up"


@job
async def hang_async(*, log: str, seconds: float = HANG_SECONDS) -> str:
    """:func:`hang` as a coroutine function: it sleeps in its event loop."""
    record(log, "started")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(left, 0.05))
    record(log, "finished")
    return "woke up"
