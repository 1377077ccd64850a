"""Import paths from before the package was re-housed, kept working for a while.

Until 0.1 the package was flat: ``scheduler.jobs``, ``scheduler.registry``,
``scheduler.celery`` and so on.  Each of those modules now lives in the
sub-package named for what it holds (:data:`MOVED` lists them).  Importing an
old path still works: it gives a module that forwards every attribute to the
new one (so ``from scheduler.jobs import JobSpec`` is the very same class) and
emits a :class:`DeprecationWarning` naming the new path.  The old paths go
away in 0.3.

:func:`install` puts the finder on :data:`sys.meta_path`; ``import
scheduler`` does that, so nothing else needs calling.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Sequence
from typing import Any

__all__ = ["MOVED", "install"]

#: Old module path -> where it lives now.
MOVED: dict[str, str] = {
    "scheduler._yamlnodes": "scheduler.config.nodes",
    "scheduler.celery": "scheduler.workers.celery",
    "scheduler.celery.integration": "scheduler.workers.celery.integration",
    "scheduler.celery.naming": "scheduler.executors.celery.naming",
    "scheduler.celery.tracking": "scheduler.workers.celery.tracking",
    "scheduler.cli_scheduler": "scheduler.cli.commands",
    "scheduler.cronexpr": "scheduler.schedules.cron",
    "scheduler.deferred": "scheduler.tasks.defer",
    "scheduler.durations": "scheduler.schedules.durations",
    "scheduler.engine_config": "scheduler.engine.settings",
    "scheduler.enums": "scheduler.model.enums",
    "scheduler.execution": "scheduler.executors.invoke",
    "scheduler.heartbeats": "scheduler.workers.heartbeats",
    "scheduler.jobs": "scheduler.model.jobs",
    "scheduler.planning": "scheduler.engine.planning",
    "scheduler.policies": "scheduler.model.policies",
    "scheduler.reconcile": "scheduler.config.reconcile",
    "scheduler.recording": "scheduler.engine.recording",
    "scheduler.registry": "scheduler.tasks.registry",
    "scheduler.remote_runs": "scheduler.workers.run",
    "scheduler.report": "scheduler.cli.tables",
    "scheduler.runs": "scheduler.model.runs",
    "scheduler.standalone": "scheduler.cli.standalone",
    "scheduler.stores.schema": "scheduler.stores.sqlalchemy.schema",
    "scheduler.worker_stores": "scheduler.workers.store",
}

_REMOVED_IN = "0.3"


class _Forwarder(types.ModuleType):
    """An old module path: every attribute is read from (and written to) the new module."""

    def __init__(self, name: str, target: types.ModuleType) -> None:
        super().__init__(name, target.__doc__)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        if _is_dunder(name) and name != "__all__":
            # The import system's own attributes (__path__, __file__, ...) are
            # this module's: forwarding __path__ would load a second copy of
            # each submodule under the old name.
            raise AttributeError(name)
        return getattr(object.__getattribute__(self, "_target"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if _is_dunder(name) or isinstance(value, _Forwarder):
            # The import system's bookkeeping, and its binding of an old
            # submodule path to its old parent: both stay on this module.
            object.__setattr__(self, name, value)
        else:  # monkeypatching the old path patches the real module
            setattr(object.__getattribute__(self, "_target"), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(object.__getattribute__(self, "_target"), name)

    def __dir__(self) -> list[str]:
        return dir(object.__getattribute__(self, "_target"))


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


class _Loader(importlib.abc.Loader):
    def __init__(self, new: str) -> None:
        self.new = new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        warnings.warn(
            f"{spec.name} moved to {self.new}; import it from there "
            f"(the old path goes away in {_REMOVED_IN})",
            DeprecationWarning,
            stacklevel=_importer_level(),
        )
        return _Forwarder(spec.name, importlib.import_module(self.new))

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the new module ran when it was imported."""


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        is_package = any(old.startswith(fullname + ".") for old in MOVED)
        return importlib.machinery.ModuleSpec(fullname, _Loader(new), is_package=is_package)


def _importer_level() -> int:
    """The ``stacklevel`` that points a warning at the ``import`` statement, past importlib.

    :func:`warnings.warn` does not count importlib's bootstrap frames itself,
    so neither does this."""
    frame: types.FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and _is_import_machinery(frame):
        if not _is_bootstrap(frame):
            level += 1
        frame = frame.f_back
    return level


def _is_bootstrap(frame: types.FrameType) -> bool:
    filename = frame.f_code.co_filename
    return "importlib" in filename and "_bootstrap" in filename


def _is_import_machinery(frame: types.FrameType) -> bool:
    module = str(frame.f_globals.get("__name__", ""))
    return module == __name__ or module == "importlib" or module.startswith("importlib.")


def install() -> None:
    """Let the old paths of :data:`MOVED` import (once per process)."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())
