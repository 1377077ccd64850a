"""A progress line on a terminal, for the long steps of the command line.

Reconciling a schedules file of 100,000 jobs takes seconds; on a terminal the
command line shows which step it is in, on one line rewritten in place, and
ends it once done.  Off a terminal (a service's log, a pipe) it writes nothing:
the log line that reports the sync says it all.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

__all__ = ["LARGE_FILE", "ProgressLine", "schedules_progress"]

#: A schedules file at least this large (bytes, about 10,000 jobs) shows progress.
LARGE_FILE = 1_000_000


class ProgressLine:
    """One line on ``stream``, rewritten by each call; nothing unless ``enabled``."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self._stream = stream
        self._enabled = enabled
        self._started = time.monotonic()
        self._shown = False

    def __call__(self, message: str) -> None:
        if not self._enabled:
            return
        elapsed = time.monotonic() - self._started
        self._stream.write(f"\r\033[K{message} ({elapsed:.1f} s)")
        self._stream.flush()
        self._shown = True

    def close(self) -> None:
        """End the line, if one was shown."""
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()
            self._shown = False


def schedules_progress(path: Path, stream: TextIO) -> ProgressLine:
    """The progress line of reconciling ``path``: shown on a terminal, for a large file."""
    try:
        large = path.stat().st_size >= LARGE_FILE
    except OSError:
        large = False
    return ProgressLine(stream, enabled=large and stream.isatty())
