"""Every ``tickwork`` command that reads or changes a store, registered on the parser.

``run`` is in :mod:`.run`; ``runs`` and ``jobs`` in :mod:`.history`;
``pause``, ``resume`` and ``migrate`` in :mod:`.maintenance`; ``status`` in :mod:`.status`;
``import`` in :mod:`.imports`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .history import add_history
from .imports import add_import
from .maintenance import add_maintenance
from .run import add_run
from .status import add_status

__all__ = ["add_commands"]

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_commands(commands: Subparsers) -> None:
    """Register the commands that use a store on the ``tickwork`` parser."""
    add_run(commands)
    add_history(commands)
    add_maintenance(commands)
    add_status(commands)
    add_import(commands)
