"""Every import the docs show works, and the paths from before the re-housing still do.

The docs, README and contrib files are read for ``from scheduler... import ...``
and ``import scheduler...`` statements and for quoted dotted paths of classes
(``"scheduler.executors.thread.ThreadExecutor"``); each is imported here.  The
old flat paths (``scheduler.jobs``, ``scheduler.celery``, ...) import with a
:class:`DeprecationWarning` that names the new home, and give the same objects.
"""

from __future__ import annotations

import importlib
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

import scheduler
from scheduler.compat import MOVED

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted(
    [
        REPO / "README.md",
        *(REPO / "docs").rglob("*.md"),
        *(REPO / "contrib").rglob("*.md"),
        *(REPO / "contrib").rglob("*.py"),
    ]
)
FROM_IMPORT = re.compile(r"^\s*from (scheduler[\w.]*) import (\([^)]*\)|[^\n]+)", re.MULTILINE)
PLAIN_IMPORT = re.compile(r"^\s*import (scheduler[\w.]*)", re.MULTILINE)
CLASS_PATH = re.compile(r"[\"'](scheduler(?:\.\w+)+\.[A-Z]\w*)[\"']")


def _names(clause: str) -> list[str]:
    clause = re.sub(r"#[^\n]*", "", clause).strip("()")
    return [part.split(" as ")[0].strip() for part in clause.split(",") if part.strip()]


def documented_imports() -> list[tuple[str, str, str]]:
    """(document, module, name) for each name imported in the docs; name '' for a module."""
    found: set[tuple[str, str, str]] = set()
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        where = str(document.relative_to(REPO))
        for module, clause in FROM_IMPORT.findall(text):
            found.update((where, module, name) for name in _names(clause))
        found.update((where, module, "") for module in PLAIN_IMPORT.findall(text))
        for path in CLASS_PATH.findall(text):
            module, _, name = path.rpartition(".")
            found.add((where, module, name))
    return sorted(found)


def test_the_docs_import_something() -> None:
    modules = {module for _, module, _ in documented_imports()}
    # A broken regex would make the next test pass on nothing.
    assert {"scheduler", "scheduler.testing", "scheduler.executors.thread"} <= modules


@pytest.mark.parametrize(
    ("document", "module", "name"),
    documented_imports(),
    ids=lambda value: value or "module",
)
def test_each_import_the_docs_show_works_without_a_warning(
    document: str, module: str, name: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a documented path must not be a deprecated one
        imported = importlib.import_module(module)
    if name:
        assert hasattr(imported, name), f"{document}: {module} has no {name}"


def test_every_public_name_of_the_package_imports() -> None:
    for name in scheduler.__all__:
        assert getattr(scheduler, name) is not None, name


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_an_old_path_imports_with_a_warning_naming_the_new_one(old: str, new: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"^{re.escape(old)} moved to {re.escape(new)};"):
        shim = _fresh_import(old)
    target = importlib.import_module(new)
    public = getattr(target, "__all__", None) or [n for n in vars(target) if not n.startswith("_")]
    for name in public:
        assert getattr(shim, name) is getattr(target, name), f"{old}.{name}"


def test_from_an_old_path_gives_the_same_class() -> None:
    from scheduler.model.jobs import JobSpec

    with pytest.warns(DeprecationWarning, match="scheduler.jobs moved to scheduler.model.jobs"):
        _fresh_import("scheduler.jobs")
        from scheduler.jobs import JobSpec as OldJobSpec  # type: ignore[import-not-found]
    assert OldJobSpec is JobSpec


def test_a_submodule_of_an_old_package_imports() -> None:
    with pytest.warns(DeprecationWarning) as caught:
        _fresh_import("scheduler.celery")
        naming = _fresh_import("scheduler.celery.naming")
    assert naming.WRAPPER_TASK == "scheduler.execute_run"
    assert naming is not importlib.import_module("scheduler.executors.celery.naming")
    assert vars(naming)["__name__"] == "scheduler.celery.naming"  # the old path, not a copy
    assert {str(w.message).split(" moved")[0] for w in caught} == {
        "scheduler.celery",
        "scheduler.celery.naming",
    }


def test_the_warning_points_at_the_importing_line() -> None:
    with pytest.warns(DeprecationWarning) as caught:
        _fresh_import("scheduler.runs")
    assert caught[0].filename == __file__


def test_patching_through_an_old_path_patches_the_real_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import scheduler.model.policies as policies

    with pytest.warns(DeprecationWarning):
        old = _fresh_import("scheduler.policies")
    monkeypatch.setattr(old, "MAX_JITTER_MARKER", "patched", raising=False)
    assert policies.MAX_JITTER_MARKER == "patched"  # type: ignore[attr-defined]


def test_an_unknown_module_is_still_an_import_error() -> None:
    with pytest.raises(ModuleNotFoundError, match=r"scheduler\.no_such_module"):
        importlib.import_module("scheduler.no_such_module")


def _fresh_import(name: str) -> Any:
    """Import ``name`` as if for the first time, so its warning fires again."""
    import sys

    for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[loaded]
    parent = name.rpartition(".")[0]
    if parent in MOVED:  # an old parent warns of its own move, once, when first imported
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            importlib.import_module(parent)
    return importlib.import_module(name)
