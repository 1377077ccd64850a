"""``ADMINS`` as each Django wants it: (name, address) pairs before 6.0, addresses since
(6.0 deprecates the pairs, and warnings are errors in the tests)."""

from __future__ import annotations

import django

__all__ = ["ADMINS"]

ADMINS: list[object] = (
    ["ops@example.com"] if django.VERSION >= (6, 0) else [("Ops", "ops@example.com")]
)
