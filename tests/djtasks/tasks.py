"""Tasks the database worker runs for the django.tasks tests (found by app discovery)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from scheduler.tasks.registry import job


@job
def add(a: int, b: int) -> dict[str, int]:
    return {"sum": a + b}


@job
def explode(message: str) -> None:
    raise ValueError(message)


@job
def sleep(seconds: float, mark: str = "") -> str:
    """Sleeps; writes ``mark`` first, so a test can wait for the start (a state, not a time)."""
    if mark:
        Path(mark).write_text(str(os.getpid()))
    time.sleep(seconds)
    return "woke up"


@job
def count_calls(path: str) -> int:
    """Appends a line per execution, so a test can count executions."""
    with Path(path).open("a") as marks:
        marks.write(f"{os.getpid()}\n")
    return len(Path(path).read_text().splitlines())
