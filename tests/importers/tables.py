"""Reading the table every ``tickwork import`` prints."""

from __future__ import annotations

__all__ = ["table_rows"]


def table_rows(out: str) -> dict[str, str]:
    """The import's table by its first column, a row's further note lines joined to it."""
    rows: dict[str, str] = {}
    first = ""
    for line in out.splitlines()[2:]:
        if not line.startswith(" "):
            first = line.split()[0]
            rows[first] = line
        else:
            rows[first] += " " + line.strip()
    return rows
