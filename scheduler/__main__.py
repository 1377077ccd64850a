"""``python -m scheduler``: the same as the ``tickwork`` command."""

from .cli.main import main

raise SystemExit(main())
