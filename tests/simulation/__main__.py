"""``python -m tests.simulation``: see :mod:`tests.simulation.cli`."""

from .cli import main

raise SystemExit(main())
