"""Tasks of the ``tickwork run --sentry-crons`` test, imported by the command (``--import``)."""

from __future__ import annotations

from scheduler.tasks.registry import job


@job
def tidy() -> str:
    return "tidied"


@job
def fail() -> None:
    raise RuntimeError("no luck")
