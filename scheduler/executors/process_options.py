"""The checks of the process executor's options, each raising
:class:`~scheduler.executors.base.ExecutorConfigError` that names the option."""

from __future__ import annotations

import multiprocessing
import sys

from ..model.sizes import MIN_MEMORY, parse_size
from .base import ExecutorConfigError

__all__ = ["grace_option", "memory_option", "start_method_option", "text_option"]


def grace_option(option: str, value: object) -> float:
    """A number of seconds of at least 0."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    raise ExecutorConfigError(
        f"OPTIONS: {option}: expected a number of seconds >= 0, got {value!r}"
    )


def memory_option(value: object) -> int | None:
    """``max_memory``: ``None``, a number of bytes, or ``"512M"``/``"2GiB"`` (powers of 1024)."""
    if value is None:
        return None
    size = parse_size(value)
    if size is None:
        raise ExecutorConfigError(
            f"OPTIONS: max_memory: expected a number of bytes or a size such as '512M' or "
            f"'2G', got {value!r}"
        )
    if size < MIN_MEMORY:
        raise ExecutorConfigError(
            f"OPTIONS: max_memory: {value!r} is {size} bytes, less than the 64M a Python "
            "child needs to start"
        )
    if not sys.platform.startswith(("linux", "freebsd")):
        raise ExecutorConfigError(
            f"OPTIONS: max_memory: not supported on {sys.platform}: RLIMIT_AS is "
            "enforced on Linux and FreeBSD only"
        )
    return size


def start_method_option(value: object) -> str:
    """``forkserver`` (the default where available) or ``spawn``; ``fork`` is refused."""
    methods = multiprocessing.get_all_start_methods()
    if value is None:
        return "forkserver" if "forkserver" in methods else "spawn"
    if value == "fork":
        raise ExecutorConfigError(
            "OPTIONS: start_method: 'fork' is refused: forking the scheduler, which runs "
            "threads, can deadlock the child; use 'forkserver' or 'spawn'"
        )
    allowed = [method for method in ("forkserver", "spawn") if method in methods]
    if value in allowed:
        return str(value)
    raise ExecutorConfigError(
        f"OPTIONS: start_method: expected one of {', '.join(map(repr, allowed))}, got {value!r}"
    )


def text_option(option: str, value: object) -> str | None:
    """``None`` or a dotted path such as ``'django.setup'``."""
    if value is None:
        return None
    if (
        isinstance(value, str)
        and "." in value
        and all(part.isidentifier() for part in value.split("."))
    ):
        return value
    raise ExecutorConfigError(
        f"OPTIONS: {option}: expected the dotted path of a callable such as "
        f"'django.setup', got {value!r}"
    )
