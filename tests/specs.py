"""Hypothesis strategies for job definitions: every kind of schedule, every policy.

Shared by the tests that write specs somewhere and read them back.  Text is
kept to what every database stores as it is (no NUL, no lone surrogates) and
within the columns' lengths.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from scheduler.model.jobs import JobSpec
from scheduler.model.notify import JobNotify
from scheduler.model.policies import CatchupPolicy, JobSource, OverlapPolicy
from scheduler.model.runs import TERMINAL_STATUSES
from scheduler.schedules.calendars import Calendar, DateRange, Holidays, OnExcluded

__all__ = ["job_specs"]

TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=20)
WORDS = st.text(
    st.characters(min_codepoint=ord("a"), max_codepoint=ord("z")), min_size=1, max_size=12
)
JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
#: Instants given in UTC and in other offsets, which a spec turns into UTC.
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-9, minutes=-30))]
    ),
)
DURATIONS = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=400))
CRONS = st.sampled_from(
    [
        "* * * * *",
        "30 2 * * *",
        "*/15 9-17 * * 1-5",
        "0 0 */2 * 1",
        "H H * * *",
        "H(0-29)/10 * * * *",
        "*/10 * * * * 30",
        "0 0 L * *",
        "0 9 * * 1#2",
        "@daily",
        "@hourly",
    ]
)
#: The default, off, only some notifiers, and some notifiers on some statuses.
NOTIFY = (
    st.just(JobNotify())
    | st.builds(
        JobNotify,
        enabled=st.just(True),
        to=st.none() | st.lists(WORDS, min_size=1, max_size=3).map(tuple),
        when=st.none() | st.frozensets(st.sampled_from(sorted(TERMINAL_STATUSES)), min_size=1),
    )
    | st.just(JobNotify(enabled=False))
)
_DAYS = st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2100, 1, 1).date())
#: No calendar, or excluded dates, holidays, weekends, skipped or moved.
CALENDARS = st.just(Calendar()) | st.builds(
    Calendar,
    exclude=st.lists(
        st.tuples(_DAYS, _DAYS).map(lambda pair: DateRange(*sorted(pair))), max_size=3
    ).map(tuple),
    holidays=st.none() | st.sampled_from([Holidays("DE", "BY"), Holidays("US")]),
    business_days=st.booleans(),
    on_excluded=st.sampled_from(OnExcluded),
    name=st.just("") | WORDS,
)
ZONES = st.sampled_from(
    ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
)


@st.composite
def _window(draw: st.DrawFn) -> dict[str, datetime]:
    """No window, a start, an end, or both (start before end)."""
    kind = draw(st.sampled_from(["none", "start", "end", "both"]))
    first, second = draw(INSTANTS), draw(INSTANTS)
    if kind == "start":
        return {"start": first}
    if kind == "end":
        return {"end": first}
    if kind == "both" and first != second:
        low, high = sorted([first, second])
        return {"start": low, "end": high}
    return {}


@st.composite
def _schedule(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["cron", "every", "at"]))
    if kind == "cron":
        return {"cron": draw(CRONS)}
    if kind == "every":
        return {"every": draw(DURATIONS)}
    return {"at": draw(INSTANTS)}


@st.composite
def job_specs(draw: st.DrawFn, name: str | None = None) -> JobSpec:
    """A valid :class:`JobSpec` with any schedule, window, calendar and policies."""
    schedule = draw(_schedule())
    return JobSpec.build(
        name=name
        if name is not None
        else draw(st.from_regex(r"[A-Za-z0-9_.:-]{1,40}", fullmatch=True)),
        task=".".join(draw(st.lists(WORDS, min_size=1, max_size=3))),
        timezone=draw(ZONES),
        args=draw(st.lists(JSON_VALUES, max_size=3)),
        kwargs=draw(st.dictionaries(TEXT, JSON_VALUES, max_size=3)),
        enabled=draw(st.booleans()),
        catchup=draw(st.sampled_from(CatchupPolicy)),
        max_catchup=draw(st.integers(min_value=1, max_value=10_000)),
        catchup_window=draw(st.none() | DURATIONS),
        overlap=draw(st.sampled_from(OverlapPolicy)),
        jitter=draw(st.just(timedelta(0)) | DURATIONS),
        timeout=draw(st.none() | DURATIONS),
        max_memory=draw(st.none() | st.integers(min_value=64 * 1024**2, max_value=2**40)),
        retries=draw(st.integers(min_value=0, max_value=100)),
        retry_backoff=draw(st.just(timedelta(0)) | DURATIONS),
        retry_backoff_max=draw(DURATIONS),
        executor=draw(WORDS),
        queue=draw(st.none() | WORDS),
        description=draw(TEXT),
        source=draw(st.sampled_from(JobSource)),
        notify=draw(NOTIFY),
        calendar=Calendar() if "at" in schedule else draw(CALENDARS),
        **schedule,
        **draw(_window()),
    )
