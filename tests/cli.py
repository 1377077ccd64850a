"""Driving ``tickwork`` the way a user does, in the test's process."""

from __future__ import annotations

import pytest

from scheduler.cli import main

__all__ = ["run"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``tickwork *argv``: its exit status, standard output and standard error
    (argparse's usage errors and ``--help`` included, which exit)."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
