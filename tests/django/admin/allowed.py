"""A module the admin's tests allow-list in ``SCHEDULER["TASKS"]``."""

from __future__ import annotations

from os import system  # noqa: F401  (imported, not defined here: never offered)


def cleanup() -> str:
    return "clean"


def _private() -> None:
    """Private: never offered."""
