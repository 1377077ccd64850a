"""Sizes in bytes, as a job's ``max_memory`` and the process executor write them.

``parse_size`` reads a number of bytes or a string such as ``"512M"``,
``"2G"`` or ``"1.5GiB"`` (powers of 1024, case-insensitive, ``B``/``iB``
optional); ``format_size`` writes the shortest such string back.
"""

from __future__ import annotations

import re

__all__ = ["MIN_MEMORY", "format_size", "parse_size"]

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
#: The least memory limit accepted: below it no Python interpreter even starts.
MIN_MEMORY = 64 * 1024**2


def parse_size(value: object) -> int | None:
    """``value`` in bytes (a positive integer, or a string with a unit), or ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if not isinstance(value, str):
        return None
    match = _SIZE.fullmatch(value.strip())
    if match is None:
        return None
    size = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    return size if size > 0 else None


def format_size(size: int) -> str:
    """``size`` bytes as ``"512M"``, ``"2G"`` or a plain number when no unit divides it."""
    for unit in ("T", "G", "M", "K"):
        if size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}"
    return str(size)
