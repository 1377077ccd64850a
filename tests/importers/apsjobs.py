"""The callables the APScheduler jobs of the importer's tests name."""

from __future__ import annotations

from typing import Any


def tick(*args: Any, **kwargs: Any) -> None:
    """Does nothing: only its dotted path matters."""


def report(*args: Any, **kwargs: Any) -> None:
    """Does nothing either; a second name, for --allow."""
