"""The rules of allow-listing: which patterns may be trusted, and what a trusted module offers.

Allow-listing is explicit trust: every public function defined in a module a
pattern matches becomes schedulable by anyone who can edit a job.  Patterns are
:mod:`fnmatch` style and ``*`` also matches dots, so ``"myapp.tasks.*"``
allows ``myapp.tasks.send`` and ``myapp.tasks.billing.close``.  To keep that
trust narrow:

* a pattern must start with a fixed package name and a dot (not ``"*"`` or
  ``"*.run"``);
* a name whose last part starts with ``_`` never matches;
* only a callable defined in the module counts, not one imported into it
  (``from subprocess import run`` does not make ``myapp.tasks.run`` a task).
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from ..errors import TaskNotRegistered

__all__ = ["defined_callable", "import_module_of", "is_dotted", "matches", "pattern_problem"]

_PATTERN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.*?[]!")
_WILDCARDS = frozenset("*?[")


def is_dotted(name: str) -> bool:
    """Whether ``name`` is a module path and an attribute: two or more identifiers."""
    parts = name.split(".")
    return len(parts) >= 2 and all(part.isidentifier() for part in parts)


def pattern_problem(pattern: object) -> str | None:
    """Why ``pattern`` cannot be allow-listed, or None if it can."""
    if not isinstance(pattern, str) or not pattern or set(pattern) - _PATTERN_CHARS:
        return (
            f"allow pattern {pattern!r} is not valid: expected a dotted path "
            "with fnmatch wildcards, such as 'myapp.tasks.*'"
        )
    head, dot, _ = pattern.partition(".")
    if not dot or not head.isidentifier() or set(head) & _WILDCARDS:
        return (
            f"allow pattern {pattern!r} is too broad: it must start with a package "
            "name and a dot, such as 'myapp.tasks.*'; allow-listing is explicit "
            "trust, so name the modules you trust"
        )
    return None


def matches(name: str, patterns: Iterable[str]) -> bool:
    """Whether ``name`` is allow-listed by one of ``patterns`` (no import happens)."""
    if not is_dotted(name) or name.rsplit(".", 1)[1].startswith("_"):
        return False
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def import_module_of(name: str) -> ModuleType:
    """Import the module of the allow-listed ``name``; TaskNotRegistered if it fails."""
    module_name = name.rsplit(".", 1)[0]
    try:
        return importlib.import_module(module_name)
    except Exception as error:  # anything the module raises while it runs
        raise TaskNotRegistered(
            f"task {name!r} is allow-listed but its module {module_name!r} "
            f"failed to import: {type(error).__name__}: {error}"
        ) from error


def defined_callable(name: str, module: ModuleType) -> Callable[..., Any]:
    """The callable ``name`` names in ``module``, if it is defined there.

    Raises :class:`~scheduler.errors.TaskNotRegistered` when the attribute is
    missing, not callable, or imported from another module.
    """
    module_name, attribute = name.rsplit(".", 1)
    func: object = getattr(module, attribute, None)
    if func is None:
        raise TaskNotRegistered(
            f"task {name!r} is allow-listed but module {module_name!r} has no "
            f"attribute {attribute!r}"
        )
    if not callable(func):
        raise TaskNotRegistered(
            f"task {name!r} is allow-listed but {attribute!r} in module "
            f"{module_name!r} is of type {type(func).__name__}, not a callable"
        )
    defined_in = getattr(func, "__module__", None)
    if defined_in != module_name:
        raise TaskNotRegistered(
            f"task {name!r} is allow-listed but {attribute!r} is defined in module "
            f"{defined_in!r}, not in {module_name!r}; only callables defined in an "
            "allow-listed module count: register it with @job if it is meant to run"
        )
    return func
