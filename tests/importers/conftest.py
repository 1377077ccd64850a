"""The importers' tests run ``tickwork import`` in this process, and its
``--allow`` and ``--import`` change the process's task registry, as they would in
a command: put it back after each test, so that tests run later by the same
process (the admin's task choices) see the registry as it was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scheduler.tasks.registry import registry


@pytest.fixture(autouse=True)
def _registry_put_back() -> Iterator[None]:
    # Only what --allow adds: tasks registered by importing a module stay, as the
    # module stays imported (importing it again would not register them again).
    patterns, imported = list(registry._patterns), dict(registry._imported)
    yield
    with registry._lock:
        registry._patterns[:] = patterns
        registry._imported.clear()
        registry._imported.update(imported)
