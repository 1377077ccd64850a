"""Tasks for the Django alert tests, allowed with ``SCHEDULER["TASKS"]``."""

from __future__ import annotations


def boom() -> None:
    raise ValueError("boom")
