"""What the job form offers to choose from: tasks, executors, time zones, policies.

Tasks are a choice, never a free dotted path: the ``@job`` functions the site
registered, and the public functions defined in the modules that
``SCHEDULER["TASKS"]`` allow-lists (what the scheduler would accept too).  A
user who can edit schedules can pick only what the site chose to trust.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import logging
import zoneinfo
from collections.abc import Sequence
from functools import lru_cache
from types import ModuleType

from ...model.enums import DocumentedEnum
from ...tasks.registry import TaskRegistrationError, TaskRegistry
from ..discovery import task_registry
from ..settings import read_settings

__all__ = [
    "Choices",
    "executor_choices",
    "policy_choices",
    "site_registry",
    "task_choices",
    "time_zones",
]

logger = logging.getLogger(__name__)

#: Django's choices: (value, label) pairs, or (group label, pairs) for a group.
Choices = list[tuple[str, str]]
GroupedChoices = list[tuple[str, Choices]]

_WILDCARDS = frozenset("*?[")


def site_registry() -> TaskRegistry:
    """The site's task registry: ``@job`` tasks discovered, ``SCHEDULER["TASKS"]`` allowed.

    A pattern the registry refuses is left out; the system checks report it
    (``scheduler.E004``).
    """
    registry = task_registry(())
    for pattern in read_settings()[0].tasks:
        try:
            registry.allow(pattern)
        except TaskRegistrationError:
            continue
    return registry


def task_choices(registry: TaskRegistry) -> GroupedChoices:
    """The tasks a job may run, grouped by how the site made them schedulable."""
    registered = registry.names()
    allowed = sorted(set(_allow_listed(registry)) - set(registered))
    groups: GroupedChoices = [("Registered with @job", [(name, name) for name in registered])]
    if allowed:
        groups.append(("Allow-listed in SCHEDULER['TASKS']", [(name, name) for name in allowed]))
    return groups


def _allow_listed(registry: TaskRegistry) -> list[str]:
    names: list[str] = []
    for pattern in registry.patterns():
        module = _fixed_module(pattern)
        if module is None:
            continue
        for attribute, member in inspect.getmembers(module, inspect.isfunction):
            name = f"{module.__name__}.{attribute}"
            if member.__module__ == module.__name__ and fnmatch.fnmatchcase(name, pattern):
                names.append(name)
    return [name for name in names if registry.is_known(name)]


def _fixed_module(pattern: str) -> ModuleType | None:
    """The module named by the part of ``pattern`` before its first wildcard.

    Only that module's own functions are listed: submodules matched by a
    ``*`` are not imported just to fill a menu.
    """
    fixed: list[str] = []
    for part in pattern.split("."):
        if set(part) & _WILDCARDS:
            break
        fixed.append(part)
    while fixed:
        try:
            return importlib.import_module(".".join(fixed))
        except ImportError:
            fixed.pop()
        except Exception:  # the module raised while it ran: say so, offer nothing
            logger.warning("allow-listed module %s failed to import", ".".join(fixed))
            return None
    return None


def executor_choices(current: str | None = None) -> Choices:
    """The executors of ``SCHEDULER["EXECUTORS"]``; ``current`` too, marked, if it is gone."""
    names = list(read_settings()[0].executors)
    choices = [(name, name) for name in names]
    if current and current not in names:
        choices.append((current, f"{current} (not configured)"))
    return choices


def policy_choices(enum: type[DocumentedEnum]) -> Choices:
    """An enum's values, each labelled with what it does."""
    return [(member.value, f"{member.value} \u2014 {_plain(member.__doc__)}") for member in enum]


def _plain(doc: str | None) -> str:
    return (doc or "").replace("``", "")


@lru_cache(maxsize=1)
def time_zones() -> Sequence[str]:
    """Every IANA zone name this Python knows, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))
