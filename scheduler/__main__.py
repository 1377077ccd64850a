"""``python -m scheduler``: the same as the ``tickwork`` command."""

from .cli import main

raise SystemExit(main())
