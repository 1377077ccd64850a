"""The argparse helpers every ``tickwork`` command shares: argument types and task options.

Each type raises :class:`argparse.ArgumentTypeError` with a message that says
what was expected and what was given, so a bad flag is a usage error (exit 2)
that names itself.
"""

from __future__ import annotations

import argparse
import os
from datetime import timedelta

from ..errors import InvalidDuration
from ..schedules.durations import parse_duration

__all__ = [
    "DEFAULT_DATABASE",
    "add_task_options",
    "database_option",
    "non_negative_float",
    "optional_duration",
    "positive_float",
    "positive_int",
]


#: Where ``tickwork`` keeps its state when neither --database nor $TICKWORK_DATABASE is given.
DEFAULT_DATABASE = "sqlite:///tickwork.sqlite3"


def database_option(parser: argparse.ArgumentParser) -> None:
    """``--database URL``, defaulting to ``$TICKWORK_DATABASE``, then :data:`DEFAULT_DATABASE`."""
    parser.add_argument(
        "--database",
        default=os.environ.get("TICKWORK_DATABASE", DEFAULT_DATABASE),
        metavar="URL",
        help=f"SQLAlchemy URL (default $TICKWORK_DATABASE or {DEFAULT_DATABASE})",
    )


def add_task_options(sub: argparse.ArgumentParser, prefix: str = "") -> None:
    """``--import``, ``--allow`` and ``--pythonpath``: where the tasks come from."""
    sub.add_argument(
        "--import", dest="modules", action="append", default=[], metavar="MODULE",
        help=prefix + "import a module that registers tasks with @job (repeatable)",
    )  # fmt: skip
    sub.add_argument(
        "--allow", action="append", default=[], metavar="PATTERN",
        help=prefix + "allow tasks by dotted-path pattern, e.g. 'myapp.tasks.*' (repeatable)",
    )  # fmt: skip
    sub.add_argument(
        "--pythonpath", action="append", default=[], metavar="DIR",
        help="directory to put on sys.path first (repeatable)",
    )  # fmt: skip


def positive_int(text: str) -> int:
    """argparse type: a whole number from 1 to 10,000 (a count of runs or rows)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to 10000, got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number of seconds above zero."""
    value = _float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a number of seconds, zero or more."""
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds of 0 or more, got {text}")
    return value


def optional_duration(text: str) -> timedelta | None:
    """argparse type: a duration above zero (``90s``, ``1h``, seconds), or ``none``."""
    if text.strip().lower() == "none":
        return None
    try:
        value = parse_duration(text)
    except InvalidDuration as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if value <= timedelta(0):
        raise argparse.ArgumentTypeError(f"expected a duration above 0, got {text!r}")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds, got {text!r}")
    return value
