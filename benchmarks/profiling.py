"""Where a scheduler's time goes: cProfile of its loop thread and time per SQL statement.

Used by ``python -m benchmarks.herd --case SYSTEM --jobs N --profile FILE``;
never during a normal benchmark run, whose numbers it would slow down.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

_profile: cProfile.Profile | None = None
_statements: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
_lock = threading.Lock()
_starts = threading.local()


def enable() -> None:
    """Profile every loop run through :func:`profiled` from now on."""
    global _profile
    _profile = cProfile.Profile()


def profiled(target: Callable[[], Any]) -> Callable[[], Any]:
    """``target``, run under the profiler if profiling is on."""
    profile = _profile
    if profile is None:
        return target

    def run() -> Any:
        return profile.runcall(target)

    return run


def add_statement(sql: str, seconds: float) -> None:
    key = " ".join(sql.split())[:90]
    with _lock:
        entry = _statements[key]
        entry[0] += 1
        entry[1] += seconds


def time_sqlalchemy(engine: Any) -> None:
    """Time each statement ``engine`` sends (only when profiling is on)."""
    if _profile is None:
        return
    from sqlalchemy import event

    def before(*_: Any) -> None:
        _starts.value = time.perf_counter()

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        add_statement(statement, time.perf_counter() - _starts.value)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)


def active() -> bool:
    return _profile is not None


def report(top: int = 35) -> str:
    """The profile (by own time, then cumulative) and the statements by total time."""
    if _profile is None:
        return ""
    out = io.StringIO()
    stats = pstats.Stats(_profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    out.write("\nSQL statements by total time (count, total ms, ms each):\n")
    with _lock:
        ranked = sorted(_statements.items(), key=lambda item: -item[1][1])
    for sql, (count, seconds) in ranked[:25]:
        out.write(f"{int(count):7d} {1000 * seconds:10.1f} {1000 * seconds / count:8.2f}  {sql}\n")
    return out.getvalue()
