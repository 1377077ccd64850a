"""The keywords of a deferral, written once.

:func:`~scheduler.tasks.defer.defer`, the ``.defer()`` of ``@job`` functions
and :meth:`~scheduler.tasks.deferrer.Deferrer.defer` all take the keywords of
one of the :class:`~typing.TypedDict` classes below, as ``**keywords:
Unpack[...]``.  So the list is written here only:

* a type checker checks every call against it (a misspelt keyword is a type
  error), and :func:`keyword_signature` gives each function the same list as
  its run-time signature, which ``help()`` and the API reference show;
* at run time the deferrer refuses a keyword outside it, naming it;
* adding a job option is one line in :class:`DeferOptions`.

A keyword left out means ``None`` when its type admits ``None``, and
otherwise the default of the :class:`~scheduler.model.jobs.JobSpec` field of
the same name.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypedDict, TypeVar, cast, get_args, get_type_hints

from ..model.jobs import JobPolicy, JobSpec
from ..stores.base import Store

__all__ = [
    "CALL_KEYS",
    "DEFERRER_KEYS",
    "DEFER_KEYS",
    "FACTORY_KEYS",
    "OPTION_KEYS",
    "CallKeywords",
    "DeferKeywords",
    "DeferOptions",
    "DeferTarget",
    "DeferrerKeywords",
    "FactoryKeywords",
    "keyword_signature",
    "split_keywords",
]

F = TypeVar("F", bound=Callable[..., Any])


class DeferOptions(TypedDict, total=False):
    """The job options a deferred call may set; the others keep their defaults.

    Each is the :class:`~scheduler.model.jobs.JobSpec` field of the same name,
    checked the same way (see the schedules file reference for what each does).
    """

    #: Which executor runs the call.
    executor: str
    #: The queue passed to the executor.
    queue: str | None
    #: Extra attempts after a failure (0-100).
    retries: int
    #: The wait before the first retry; it doubles for each next one.
    retry_backoff: timedelta
    #: The longest wait between retries.
    retry_backoff_max: timedelta
    #: The longest a run may take.
    timeout: timedelta | None
    #: Free text for people.
    description: str


class CallKeywords(TypedDict, total=False):
    """When a deferred call runs, and with which arguments."""

    #: The instant to run at: timezone-aware, in any zone.
    run_at: datetime | None
    #: Or how long from now: a timedelta, seconds, or a string such as ``"2h"``.
    delay: timedelta | float | str | None
    #: The task's positional arguments: JSON values.
    args: Sequence[Any]
    #: The task's keyword arguments: a mapping of names to JSON values.
    kwargs: Mapping[str, Any] | None


class DeferTarget(TypedDict, total=False):
    """Where :func:`~scheduler.tasks.defer.defer` writes a deferred call."""

    #: The store to write into, at once, instead of the default one.
    store: Store | None


class FactoryKeywords(TypedDict, total=False):
    """How an integration's default deferrer writes: what a
    :class:`~scheduler.tasks.defer.DeferrerFactory` is given.  With a ``store``
    neither applies, and only ``on_commit=False`` is accepted."""

    #: Under Django: wait for the transaction to commit (the default) or not.
    on_commit: bool | None
    #: Under Django: the alias of the database to write into.
    using: str | None


class DeferrerKeywords(CallKeywords, DeferOptions, total=False):
    """What :meth:`~scheduler.tasks.deferrer.Deferrer.defer` takes after the task:
    :class:`CallKeywords` and :class:`DeferOptions`."""


class DeferKeywords(CallKeywords, DeferTarget, FactoryKeywords, DeferOptions, total=False):
    """What :func:`~scheduler.tasks.defer.defer` and the ``.defer()`` of a ``@job``
    function take after the task: :class:`CallKeywords`, :class:`DeferTarget`,
    :class:`FactoryKeywords` and :class:`DeferOptions`."""


def _keys(keywords: Any) -> frozenset[str]:
    return frozenset(keywords.__required_keys__ | keywords.__optional_keys__)


#: The names of the job options.
OPTION_KEYS = _keys(DeferOptions)
#: Those that say when and with what.
CALL_KEYS = _keys(CallKeywords)
#: The keywords of a :class:`~scheduler.tasks.deferrer.Deferrer`'s ``defer()``.
DEFERRER_KEYS = _keys(DeferrerKeywords)
#: Those a :class:`~scheduler.tasks.defer.DeferrerFactory` is given.
FACTORY_KEYS = _keys(FactoryKeywords)
#: The keywords of :func:`~scheduler.tasks.defer.defer`.
DEFER_KEYS = _keys(DeferKeywords)


def split_keywords(
    keywords: DeferKeywords,
) -> tuple[Store | None, FactoryKeywords, DeferrerKeywords]:
    """``keywords`` in three: the store, what a deferrer factory is given (every key
    of :class:`FactoryKeywords`, ``None`` if not given), and what the deferrer takes
    (with any unknown keyword, for the deferrer to refuse by name)."""
    rest: dict[str, Any] = dict(keywords)
    store = rest.pop("store", None)
    factory = {key: rest.pop(key, None) for key in sorted(FACTORY_KEYS)}
    return store, cast("FactoryKeywords", factory), cast("DeferrerKeywords", rest)


def keyword_signature(keywords: Any) -> Callable[[F], F]:
    """Give a function taking ``**keywords: Unpack[keywords]`` the signature that spells
    each keyword out, for ``help()``, :func:`inspect.signature` and the API reference.

    Only what is shown changes: the function still takes ``**keywords``.
    """
    hints = get_type_hints(keywords)
    spelled = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=_default(name, hint), annotation=hint
        )
        for name, hint in hints.items()
    ]

    def decorate(func: F) -> F:
        own = inspect.signature(func)
        kept = [p for p in own.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        func.__dict__["__signature__"] = own.replace(parameters=[*kept, *spelled])
        return func

    return decorate


_SPEC_DEFAULTS = {
    spec_field.name: spec_field.default
    for spec_field in (*dataclasses.fields(JobSpec), *dataclasses.fields(JobPolicy))
    if spec_field.default is not dataclasses.MISSING
}


def _default(name: str, hint: Any) -> Any:
    """``None`` if ``hint`` admits it, else the default of the job field ``name``."""
    if type(None) in get_args(hint):
        return None
    if name not in _SPEC_DEFAULTS:
        raise TypeError(
            f"deferral keyword {name!r} neither admits None nor names a job field "
            "with a default, so leaving it out means nothing: rename it or widen its type"
        )
    return _SPEC_DEFAULTS[name]
