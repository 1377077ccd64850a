"""Catch-up, overlap, jitter and retry policies: enums and pure functions."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.model.policies import (
    CatchupPlan,
    CatchupPolicy,
    JobSource,
    OverlapPolicy,
    jitter_offset,
    plan_catchup,
    retry_delay,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def hours(*offsets: int) -> list[datetime]:
    return [T0 + offset * HOUR for offset in offsets]


# --- enums -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (CatchupPolicy, ["once", "all", "skip"]),
        (OverlapPolicy, ["skip", "allow", "queue"]),
        (JobSource, ["yaml", "admin", "code"]),
    ],
)
def test_enum_values_and_member_docstrings(enum: type[StrEnum], values: list[str]) -> None:
    members = list(enum)
    assert [member.value for member in members] == values
    for member in members:
        assert isinstance(member, str)
        assert member == member.value
        assert str(member) == member.value
        assert enum(member.value) is member
        assert member.__doc__
        assert member.__doc__ != enum.__doc__
    assert len({member.__doc__ for member in members}) == len(members)


def test_enum_rejects_unknown_value() -> None:
    with pytest.raises(ValueError, match="'sometimes' is not a valid CatchupPolicy"):
        CatchupPolicy("sometimes")


def test_member_docstrings_say_what_they_do() -> None:
    assert "once" in (CatchupPolicy.ONCE.__doc__ or "").lower()
    assert "skipped" in (OverlapPolicy.SKIP.__doc__ or "")
    assert "admin" in (JobSource.ADMIN.__doc__ or "").lower()


# --- retry_delay ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [
        (1, timedelta(seconds=10)),
        (2, timedelta(seconds=20)),
        (3, timedelta(seconds=40)),
        (4, timedelta(seconds=80)),
        (9, timedelta(seconds=2560)),
        (10, timedelta(hours=1)),
        (100, timedelta(hours=1)),
        (10_000, timedelta(hours=1)),
    ],
)
def test_retry_delay_doubles_up_to_the_cap(attempt: int, expected: timedelta) -> None:
    assert retry_delay(attempt, timedelta(seconds=10), timedelta(hours=1)) == expected


def test_retry_delay_keeps_microseconds() -> None:
    assert retry_delay(3, timedelta(microseconds=3), timedelta(days=1)) == timedelta(
        microseconds=12
    )


def test_retry_delay_with_zero_base_is_immediate() -> None:
    assert retry_delay(5, timedelta(0), timedelta(hours=1)) == timedelta(0)


@pytest.mark.parametrize(
    ("attempt", "base", "cap", "message"),
    [
        (0, timedelta(seconds=1), HOUR, "attempt must be an integer of at least 1, got 0"),
        (-2, timedelta(seconds=1), HOUR, "attempt must be an integer of at least 1, got -2"),
        (True, timedelta(seconds=1), HOUR, "attempt must be an integer of at least 1, got True"),
        (1, timedelta(seconds=-1), HOUR, "base and cap must not be negative"),
        (1, timedelta(seconds=1), -HOUR, "base and cap must not be negative"),
    ],
)
def test_retry_delay_rejects(attempt: int, base: timedelta, cap: timedelta, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        retry_delay(attempt, base, cap)


@given(
    attempt=st.integers(min_value=1, max_value=200),
    base=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=1)),
    cap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
)
def test_retry_delay_is_monotonic_and_capped(attempt: int, base: timedelta, cap: timedelta) -> None:
    delay = retry_delay(attempt, base, cap)
    assert timedelta(0) <= delay <= cap
    assert delay <= retry_delay(attempt + 1, base, cap)
    micro = timedelta(microseconds=1)
    assert delay == timedelta(microseconds=min(base // micro * 2 ** (attempt - 1), cap // micro))


# --- jitter_offset -------------------------------------------------------------


def test_jitter_is_pinned() -> None:
    # Pinned so that a change of algorithm, which would move every job's runs
    # on upgrade, cannot go unnoticed.
    slot = datetime(2026, 1, 1, 2, 30, tzinfo=UTC)
    assert jitter_offset("nightly-report", slot, timedelta(seconds=30)) == timedelta(
        seconds=23, microseconds=740441
    )
    assert jitter_offset("heartbeat", T0, timedelta(minutes=5)) == timedelta(
        seconds=120, microseconds=926043
    )


def test_jitter_is_the_same_for_the_same_instant_in_any_offset() -> None:
    berlin_noon = datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    utc_noon = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert jitter_offset("job", berlin_noon, HOUR) == jitter_offset("job", utc_noon, HOUR)


def test_jitter_differs_between_jobs_and_slots() -> None:
    offsets = {jitter_offset(name, T0, HOUR) for name in ("a", "b", "c", "d")}
    offsets |= {jitter_offset("a", slot, HOUR) for slot in hours(1, 2, 3)}
    assert len(offsets) == 7


def test_jitter_does_not_depend_on_the_hash_seed() -> None:
    code = (
        "from datetime import datetime, timedelta, UTC\n"
        "from scheduler.model.policies import jitter_offset\n"
        "print(jitter_offset('nightly-report', datetime(2026, 1, 1, 2, 30, tzinfo=UTC),"
        " timedelta(seconds=30)))"
    )
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        )
        outputs.add(result.stdout.strip())
    assert outputs == {"0:00:23.740441"}


@pytest.mark.parametrize("max_jitter", [timedelta(0), timedelta(microseconds=0.4)])
def test_no_jitter_below_a_microsecond(max_jitter: timedelta) -> None:
    assert jitter_offset("job", T0, max_jitter) == timedelta(0)


def test_jitter_of_one_microsecond_takes_both_values() -> None:
    offsets = {jitter_offset("job", slot, timedelta(microseconds=1)) for slot in hours(*range(40))}
    assert offsets == {timedelta(0), timedelta(microseconds=1)}


def test_jitter_is_spread_uniformly() -> None:
    buckets = Counter(
        jitter_offset("job", T0 + index * timedelta(minutes=1), timedelta(seconds=10)).seconds
        for index in range(3000)
    )
    assert sorted(buckets) == list(range(10))
    # 300 expected per bucket; a standard deviation is about 16.
    assert all(220 < count < 380 for count in buckets.values())


@given(
    name=st.text(min_size=1, max_size=50),
    slot=st.datetimes(timezones=st.just(UTC)),
    max_jitter=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=7)),
)
def test_jitter_is_within_bounds_and_repeatable(
    name: str, slot: datetime, max_jitter: timedelta
) -> None:
    offset = jitter_offset(name, slot, max_jitter)
    assert timedelta(0) <= offset <= max_jitter
    assert offset == jitter_offset(name, slot, max_jitter)


def test_jitter_rejects_naive_slot_and_negative_maximum() -> None:
    with pytest.raises(ValueError, match="slot must be timezone-aware"):
        jitter_offset("job", datetime(2026, 1, 1), HOUR)
    with pytest.raises(ValueError, match="max_jitter must not be negative"):
        jitter_offset("job", T0, -HOUR)


# --- plan_catchup --------------------------------------------------------------


def plan(
    missed: list[datetime],
    policy: CatchupPolicy,
    *,
    window: timedelta | None = None,
    max_catchup: int = 100,
    now: datetime | None = None,
) -> CatchupPlan:
    return plan_catchup(
        missed,
        now=now or T0 + 10 * HOUR,
        policy=policy,
        window=window,
        max_catchup=max_catchup,
    )


def test_once_fires_the_latest_and_records_the_rest() -> None:
    result = plan(hours(1, 2, 3), CatchupPolicy.ONCE)
    assert result == CatchupPlan(fire=tuple(hours(3)), missed=tuple(hours(1, 2)))


def test_all_fires_each_missed_slot() -> None:
    result = plan(hours(1, 2, 3), CatchupPolicy.ALL)
    assert result == CatchupPlan(fire=tuple(hours(1, 2, 3)), missed=())


def test_all_fires_the_most_recent_up_to_max_catchup() -> None:
    result = plan(hours(1, 2, 3, 4, 5), CatchupPolicy.ALL, max_catchup=2)
    assert result == CatchupPlan(fire=tuple(hours(4, 5)), missed=tuple(hours(1, 2, 3)))


def test_skip_fires_none() -> None:
    result = plan(hours(1, 2, 3), CatchupPolicy.SKIP)
    assert result == CatchupPlan(fire=(), missed=tuple(hours(1, 2, 3)))


@pytest.mark.parametrize("policy", list(CatchupPolicy))
def test_nothing_missed_plans_nothing(policy: CatchupPolicy) -> None:
    assert plan([], policy) == CatchupPlan(fire=(), missed=())


@pytest.mark.parametrize(
    ("policy", "fire", "missed"),
    [
        (CatchupPolicy.ONCE, [8], [1, 2, 7]),
        (CatchupPolicy.ALL, [7, 8], [1, 2]),
        (CatchupPolicy.SKIP, [], [1, 2, 7, 8]),
    ],
)
def test_slots_older_than_the_window_are_always_missed(
    policy: CatchupPolicy, fire: list[int], missed: list[int]
) -> None:
    # now is hour 10, so a 3 hour window keeps hours 7 and later.
    result = plan(hours(1, 2, 7, 8), policy, window=3 * HOUR)
    assert result == CatchupPlan(fire=tuple(hours(*fire)), missed=tuple(hours(*missed)))


def test_a_slot_exactly_at_the_window_edge_is_eligible() -> None:
    result = plan(hours(7), CatchupPolicy.ONCE, window=3 * HOUR)
    assert result.fire == tuple(hours(7))


@pytest.mark.parametrize("policy", [CatchupPolicy.ONCE, CatchupPolicy.ALL])
def test_everything_outside_the_window_fires_nothing(policy: CatchupPolicy) -> None:
    result = plan(hours(1, 2), policy, window=HOUR)
    assert result == CatchupPlan(fire=(), missed=tuple(hours(1, 2)))


def test_policy_may_be_given_as_its_string_value() -> None:
    result = plan(hours(1, 2), "all")  # type: ignore[arg-type]
    assert result.fire == tuple(hours(1, 2))


def test_unsorted_slots_are_planned_in_order() -> None:
    result = plan(hours(3, 1, 2), CatchupPolicy.ONCE)
    assert result == CatchupPlan(fire=tuple(hours(3)), missed=tuple(hours(1, 2)))


@pytest.mark.parametrize("max_catchup", [0, -1, True])
def test_max_catchup_must_be_positive(max_catchup: int) -> None:
    with pytest.raises(ValueError, match="max_catchup must be an integer of at least 1"):
        plan(hours(1), CatchupPolicy.ALL, max_catchup=max_catchup)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        plan(hours(1), CatchupPolicy.ONCE, now=datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="missed slot must be timezone-aware"):
        plan([datetime(2026, 1, 1)], CatchupPolicy.ONCE)


def test_plan_is_frozen() -> None:
    result = plan(hours(1), CatchupPolicy.ONCE)
    with pytest.raises(AttributeError):
        result.fire = ()  # type: ignore[misc]


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=500), unique=True, max_size=40),
    policy=st.sampled_from(CatchupPolicy),
    window_hours=st.none() | st.integers(min_value=1, max_value=600),
    max_catchup=st.integers(min_value=1, max_value=50),
)
def test_plan_partitions_the_missed_slots(
    offsets: list[int], policy: CatchupPolicy, window_hours: int | None, max_catchup: int
) -> None:
    missed = sorted(T0 + offset * timedelta(minutes=1) for offset in offsets)
    now = T0 + 600 * timedelta(minutes=1)
    window = None if window_hours is None else window_hours * timedelta(minutes=1)
    result = plan(missed, policy, window=window, max_catchup=max_catchup, now=now)
    assert sorted(result.fire + result.missed) == missed
    assert list(result.fire) == sorted(result.fire)
    assert list(result.missed) == sorted(result.missed)
    eligible = [slot for slot in missed if window is None or slot >= now - window]
    limit = {CatchupPolicy.ONCE: 1, CatchupPolicy.ALL: max_catchup, CatchupPolicy.SKIP: 0}
    assert list(result.fire) == eligible[len(eligible) - min(limit[policy], len(eligible)) :]
