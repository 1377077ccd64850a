"""Words for people: counts with the right plural."""

from __future__ import annotations

__all__ = ["plural"]


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun``, in the plural unless ``count`` is one:
    ``plural(1, "run")`` is ``1 run``, ``plural(3, "run")`` is ``3 runs``;
    ``many`` spells an irregular plural (``plural(2, "entry", "entries")``)."""
    word = noun if count == 1 else (many or f"{noun}s")
    return f"{count} {word}"
