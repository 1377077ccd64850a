"""The ``tickwork`` command line: ``main`` parses, the commands act.

:mod:`.main` holds the parser and the schedule-math commands (``next``,
``check``), :mod:`.commands` the ones that open a store (``run``, ``runs``,
``jobs``, ``pause``, ``resume``, ``migrate``, ``status``), :mod:`.probe` what
``status`` and ``manage.py scheduler_status`` report, :mod:`.options` the argument
types they share, :mod:`.standalone` what ``tickwork run`` builds without
Django, and :mod:`.tables` the plain-text tables they print.
"""

from __future__ import annotations

from .main import main
from .options import (
    add_task_options,
    non_negative_float,
    optional_duration,
    positive_float,
    positive_int,
)

__all__ = [
    "add_task_options",
    "main",
    "non_negative_float",
    "optional_duration",
    "positive_float",
    "positive_int",
]
