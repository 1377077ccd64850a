"""One signature for every way to defer, written once in ``scheduler.tasks.keywords``.

``scheduler.defer()``, the ``.defer()`` of a ``@job`` function and
``Deferrer.defer()`` take the same keywords (the deferrer, which has its own
store, all but where to write), refuse the same unknown one with the same
message, show the same list in their signatures, and mean by a keyword left
out what their signatures say.  A type checker reads the same list: a
misspelt keyword is a type error at every call site.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict, get_type_hints

import pytest

import scheduler
from scheduler.errors import InvalidJob
from scheduler.model.fields import FIELD_NAMES
from scheduler.model.jobs import POLICY_FIELDS, JobSpec
from scheduler.tasks.defer import DeferredCall, Deferrer, set_default_deferrer
from scheduler.tasks.keywords import (
    CALL_KEYS,
    DEFER_KEYS,
    DEFERRER_KEYS,
    FACTORY_KEYS,
    OPTION_KEYS,
    DeferKeywords,
    DeferOptions,
    DeferrerKeywords,
    FactoryKeywords,
    keyword_signature,
    split_keywords,
)
from scheduler.tasks.registry import JobFunction, job
from scheduler.testing import FakeClock, MemoryStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TASK = "tests.unit.test_defer_keywords.remind"

#: A value other than the default for every keyword a deferrer takes.
SAMPLES: dict[str, Any] = {
    "run_at": T0 + HOUR,
    "delay": 2 * HOUR,
    "args": [7],
    "kwargs": {"channel": "sms"},
    "executor": "mail",
    "queue": "low",
    "retries": 3,
    "retry_backoff": timedelta(seconds=30),
    "retry_backoff_max": timedelta(minutes=10),
    "timeout": timedelta(minutes=5),
    "description": "a reminder",
}
UNKNOWN_OPTION = (
    f"cannot defer {TASK!r}: unknown option 'retires'; the options are description, "
    "executor, queue, retries, retry_backoff, retry_backoff_max, timeout; nothing was deferred"
)


@job
def remind(user_id: int = 0, *, channel: str = "mail") -> str:
    return f"{user_id} by {channel}"


Way = Callable[..., DeferredCall]


@pytest.fixture
def store() -> Iterator[MemoryStore]:
    """A store that every way to defer writes into, on a fake clock."""
    store = MemoryStore()
    clock = FakeClock(T0)
    previous = set_default_deferrer(lambda **_: Deferrer(store, clock=clock))
    try:
        yield store
    finally:
        set_default_deferrer(previous)


def ways(store: MemoryStore) -> dict[str, Way]:
    """Every way to defer ``remind``, each given only the keywords of the test."""
    deferrer = Deferrer(store, clock=FakeClock(T0))
    return {
        "scheduler.defer": lambda **keywords: scheduler.defer(TASK, **keywords),
        "@job .defer()": lambda **keywords: remind.defer(**keywords),
        "Deferrer.defer": lambda **keywords: deferrer.defer(remind, **keywords),
    }


WAYS = ["scheduler.defer", "@job .defer()", "Deferrer.defer"]


def keyword_names(func: Callable[..., Any]) -> list[str]:
    parameters = inspect.signature(func).parameters.values()
    return [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]


def stored(store: MemoryStore, call: DeferredCall) -> JobSpec:
    return dataclasses.replace(store.get_job(call.name).spec, name="deferred")


# -- the list is written once ------------------------------------------------------------
def test_the_keyword_sets_are_built_from_the_typed_dicts() -> None:
    assert OPTION_KEYS == set(DeferOptions.__optional_keys__)
    assert CALL_KEYS == {"run_at", "delay", "args", "kwargs"}
    assert FACTORY_KEYS == set(FactoryKeywords.__optional_keys__) == {"on_commit", "using"}
    assert DEFERRER_KEYS == CALL_KEYS | OPTION_KEYS == set(get_type_hints(DeferrerKeywords))
    assert DEFER_KEYS == DEFERRER_KEYS | FACTORY_KEYS | {"store"}
    assert DEFER_KEYS == set(get_type_hints(DeferKeywords))


def test_every_way_to_defer_spells_out_the_same_keywords() -> None:
    everything = list(get_type_hints(DeferKeywords))
    assert everything[:7] == ["run_at", "delay", "args", "kwargs", "store", "on_commit", "using"]
    assert keyword_names(scheduler.defer) == everything
    assert keyword_names(remind.defer) == everything
    assert keyword_names(JobFunction.defer) == everything
    assert keyword_names(Deferrer.defer) == list(get_type_hints(DeferrerKeywords))
    assert next(iter(inspect.signature(scheduler.defer).parameters)) == "task"
    assert next(iter(inspect.signature(Deferrer(MemoryStore()).defer).parameters)) == "task"


def test_the_signatures_show_the_types_of_the_typed_dicts() -> None:
    hints = get_type_hints(DeferKeywords)
    shown = inspect.signature(scheduler.defer).parameters
    assert {name: shown[name].annotation for name in hints} == hints


def test_every_job_option_is_a_field_the_job_checks() -> None:
    assert set(FIELD_NAMES) >= OPTION_KEYS
    assert set(SAMPLES) == DEFERRER_KEYS, "give the new keyword a sample value above"


def test_the_store_and_factory_keywords_are_split_off_for_the_deferrer() -> None:
    store = MemoryStore()
    keywords: DeferKeywords = {"store": store, "using": "other", "delay": HOUR, "retries": 1}
    assert split_keywords(keywords) == (
        store,
        {"on_commit": None, "using": "other"},
        {"delay": HOUR, "retries": 1},
    )
    assert keywords == {"store": store, "using": "other", "delay": HOUR, "retries": 1}


# -- at run time, every way means the same -----------------------------------------------
@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("when", ["run_at", "delay"])
def test_every_way_accepts_every_keyword(store: MemoryStore, way: str, when: str) -> None:
    keywords = {key: value for key, value in SAMPLES.items() if key not in {"run_at", "delay"}}
    call = ways(store)[way](**keywords, **{when: SAMPLES[when]})
    spec = store.get_job(call.name).spec
    assert {
        key: getattr(spec.policy if key in POLICY_FIELDS else spec, key) for key in OPTION_KEYS
    } == {key: SAMPLES[key] for key in OPTION_KEYS}
    run_at = {"run_at": T0 + HOUR, "delay": T0 + 2 * HOUR}[when]
    assert (spec.args, spec.kwargs, call.run_at) == ((7,), {"channel": "sms"}, run_at)


@pytest.mark.parametrize("way", WAYS)
def test_every_way_refuses_an_unknown_keyword_with_the_same_message(
    store: MemoryStore, way: str
) -> None:
    with pytest.raises(InvalidJob) as raised:
        ways(store)[way](delay=HOUR, retires=2)
    assert str(raised.value) == UNKNOWN_OPTION
    assert store.list_jobs() == []


def test_the_deferrer_refuses_where_to_write_as_an_unknown_option(store: MemoryStore) -> None:
    for key in ["store", "on_commit", "using"]:
        with pytest.raises(InvalidJob, match=re.escape(f"unknown option {key!r}; the options")):
            ways(store)["Deferrer.defer"](delay=HOUR, **{key: None})


def test_positional_arguments_are_still_a_type_error(store: MemoryStore) -> None:
    with pytest.raises(TypeError, match="takes 0 positional arguments but 1 was given"):
        remind.defer(HOUR)
    with pytest.raises(TypeError, match="takes 2 positional arguments but 3 were given"):
        Deferrer(store).defer(remind, HOUR)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'task'"):
        scheduler.defer(delay=HOUR)


@pytest.mark.parametrize("key", sorted(DEFERRER_KEYS - {"run_at", "delay"}))
@pytest.mark.parametrize("way", WAYS)
def test_a_keyword_left_out_means_the_default_its_signature_shows(
    store: MemoryStore, way: str, key: str
) -> None:
    default = inspect.signature(scheduler.defer).parameters[key].default
    assert inspect.signature(Deferrer.defer).parameters[key].default == default
    given = ways(store)[way](delay=HOUR, **{key: default})
    left_out = ways(store)[way](delay=HOUR)
    assert stored(store, given) == stored(store, left_out)


# -- for a type checker, the same list ---------------------------------------------------
SNIPPET = """
from datetime import timedelta

import scheduler
from scheduler.tasks.defer import Deferrer
from scheduler.testing import MemoryStore


@scheduler.job
def ping(n: int) -> int:
    return n


store = MemoryStore()
scheduler.defer(ping, delay=timedelta(hours=1), args=[1], store=store, retries=2)
ping.defer(delay=3600, args=[1], store=store, on_commit=False, using=None, queue="q")
Deferrer(store).defer("app.tasks.ping", run_at=None, delay="2h", description="d")
scheduler.defer(ping, delay=1, retires=2)  # E: call-arg
ping.defer(delay=1, retires=2)  # E: call-arg
Deferrer(store).defer(ping, delay=1, retires=2)  # E: call-arg
Deferrer(store).defer(ping, delay=1, store=store)  # E: call-arg
ping.defer(delay=1, retries="2")  # E: arg-type
scheduler.defer(ping, run_at="tomorrow")  # E: arg-type
"""


def test_a_type_checker_finds_a_misspelt_keyword_at_every_call_site(tmp_path: Path) -> None:
    mypy = pytest.importorskip("mypy.api")
    snippet = tmp_path / "calls.py"
    snippet.write_text(textwrap.dedent(SNIPPET), encoding="utf-8")
    expected = {
        (number, line.rpartition("# E: ")[2])
        for number, line in enumerate(snippet.read_text().splitlines(), start=1)
        if "# E: " in line
    }
    options = ["--strict", "--no-incremental", "--follow-imports=silent", "--config-file="]
    options.append(f"--cache-dir={tmp_path / 'mypy-cache'}")
    out, _, _ = mypy.run([*options, str(snippet)])
    found = {
        (int(number), code)
        for number, code in re.findall(r"calls\.py:(\d+): error: .*\[([\w-]+)\]$", out, re.M)
    }
    assert found == expected, out


def test_a_keyword_that_cannot_be_left_out_is_refused_when_the_signature_is_built() -> None:
    class Broken(TypedDict, total=False):
        priority: int

    with pytest.raises(TypeError, match="deferral keyword 'priority' neither admits None"):
        keyword_signature(Broken)
