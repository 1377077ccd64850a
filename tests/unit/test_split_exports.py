"""The modules split by what they hold still export every name they exported before.

``scheduler.tasks.defer`` was one module and is now the front of
``tasks.keywords``, ``tasks.oneoff``, ``tasks.deferrer`` and
``tasks.cancellation``; ``scheduler.config.reader`` is the front of
``config.jobs``, ``config.keys``, ``config.walker`` and ``config.loaded``.
Code, docs and the old ``scheduler.deferred`` path import from the fronts.
"""

from __future__ import annotations

import importlib

import pytest

import scheduler.config
from scheduler.config import loaded
from scheduler.tasks import cancellation, defer, deferrer, keywords, oneoff

EXPORTS = {
    "scheduler.tasks.defer": [
        "MAX_AHEAD",
        "MAX_BEHIND",
        "Cancellation",
        "DeferOptions",
        "DeferredCall",
        "Deferrer",
        "DeferrerFactory",
        "TaskRef",
        "bound_defer",
        "cancel_deferred",
        "defer",
        "is_deferred",
        "set_default_deferrer",
        "set_default_store",
    ],
    "scheduler.config": [
        "DEFAULT_KEYS",
        "JOB_KEYS",
        "SCHEDULE_KEYS",
        "TOP_KEYS",
        "LoadedSchedules",
        "Location",
        "load_schedules",
        "parse_schedules",
        "read_schedules",
        "read_schedules_text",
        "survey_schedules",  # added since: everything checkable in one pass
    ],
    "scheduler.config.reader": [
        "DEFAULT_KEYS",
        "JOB_KEYS",
        "SCHEDULE_KEYS",
        "TOP_KEYS",
        "LoadedSchedules",
        "Location",
        "load_schedules",
        "parse_schedules",
        "read_schedules",
        "read_schedules_text",
        "survey_schedules",  # added since: everything checkable in one pass
    ],
}


@pytest.mark.parametrize("module", sorted(EXPORTS))
def test_the_front_exports_what_it_exported_before(module: str) -> None:
    imported = importlib.import_module(module)
    assert sorted(imported.__all__) == sorted(EXPORTS[module])
    for name in EXPORTS[module]:
        assert getattr(imported, name) is not None, f"{module}.{name}"


def test_the_front_gives_the_very_objects_of_the_modules_that_hold_them() -> None:
    assert defer.Deferrer is deferrer.Deferrer and defer.DeferredCall is deferrer.DeferredCall
    assert defer.Cancellation is cancellation.Cancellation
    assert defer.DeferOptions is keywords.DeferOptions
    assert (defer.MAX_AHEAD, defer.MAX_BEHIND) == (oneoff.MAX_AHEAD, oneoff.MAX_BEHIND)
    assert scheduler.config.LoadedSchedules is loaded.LoadedSchedules
