"""Which tasks a Django site may schedule: ``@job`` functions in its apps' ``tasks`` modules,
and the patterns of ``SCHEDULER["TASKS"]``.

Discovery is lazy: nothing is imported when the app loads, only when the
scheduler, the system checks or the admin first need the registry.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from django.utils.module_loading import autodiscover_modules

from ..tasks.registry import TaskRegistry
from ..tasks.registry import registry as default_registry

__all__ = ["UNREGISTERED_HINT", "discover_tasks", "task_registry"]

#: What to do about a task a schedules file names but nobody registered.
UNREGISTERED_HINT = (
    "decorate it with @job in the tasks module of an installed app, or allow its "
    "module in SCHEDULER['TASKS'] (for example 'myapp.jobs.*')"
)

_lock = threading.Lock()
_discovered = False


def discover_tasks() -> None:
    """Import the ``tasks`` module of every installed app, once, so their ``@job``
    decorators run.  An app's tasks module that fails to import raises."""
    global _discovered
    with _lock:
        if not _discovered:
            autodiscover_modules("tasks")
            _discovered = True


def task_registry(patterns: Iterable[str]) -> TaskRegistry:
    """The registry ``@job`` fills, after discovery, with ``patterns`` allow-listed.

    Raises :class:`~scheduler.tasks.registry.TaskRegistrationError` for a bad pattern
    (the system checks report it first as ``scheduler.E004``).
    """
    discover_tasks()
    for pattern in patterns:
        default_registry.allow(pattern)
    return default_registry
