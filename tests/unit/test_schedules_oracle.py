"""Differential tests: schedules.Cron against the brute-force oracle.

Thousands of random expressions, in zones chosen for their awkward clock
changes, compared over windows that straddle each change.  A mismatch prints
the expression, zone and instant so it can be pinned in the DST table.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.errors import InvalidSchedule
from scheduler.schedules import Cron

from .cron_oracle import Oracle, transitions

# (zone, year): years in which the zone changes its clocks in some awkward way.
ZONE_YEARS = [
    ("Europe/Berlin", 2026),
    ("America/New_York", 2026),
    ("Australia/Lord_Howe", 2026),  # 30-minute shift
    ("Europe/Dublin", 2026),  # "negative" DST in tzdata
    ("America/Santiago", 2026),  # changes at midnight
    ("America/Havana", 2026),  # changes at midnight
    ("Pacific/Chatham", 2026),  # +12:45 / +13:45
    ("America/St_Johns", 2026),  # -03:30 / -02:30
    ("Antarctica/Troll", 2026),  # two-hour shift
    ("Antarctica/Casey", 2010),  # three-hour jumps both ways
    ("Pacific/Apia", 2011),  # skipped 30 December 2011
    ("Africa/Casablanca", 2026),  # backwards around Ramadan
    ("Asia/Tehran", 2021),
]
MINUTE_CASES = 1500
SECOND_CASES = 120
DAY_CASES = 600


def _pick_minute(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.25:
        return rng.choice(["*", "*/5", "*/15", "*/7", "*/30"])
    if kind < 0.55:
        return str(rng.choice([0, 0, 15, 30, 45, rng.randrange(60)]))
    if kind < 0.75:
        a = rng.randrange(50)
        return f"{a}-{a + rng.randrange(1, 10)}"
    if kind < 0.9:
        return ",".join(str(v) for v in sorted(rng.sample(range(60), rng.randint(2, 4))))
    a = rng.randrange(30)
    return f"{a}-{a + 20}/{rng.randint(2, 9)}"


def _pick_hour(rng: random.Random, around: int) -> str:
    near = [(around + d) % 24 for d in (-2, -1, 0, 1, 2)]
    kind = rng.random()
    if kind < 0.3:
        return rng.choice(["*", "*", "*/2", "*/3"])
    if kind < 0.6:
        return str(rng.choice(near))
    if kind < 0.8:
        values = sorted(set(rng.sample(near, rng.randint(2, 3))))
        return ",".join(str(v) for v in values)
    low = min(near[0], near[2])
    return f"{low}-{low + rng.randint(1, 4)}" if low + 4 < 24 else f"0-{near[2]}"


def _pick_day_fields(rng: random.Random) -> tuple[str, str]:
    kind = rng.random()
    if kind < 0.8:
        return "*", "*"
    if kind < 0.9:
        return "*", rng.choice(["0-6", "MON-FRI", "SAT,SUN", "*/2", "0,6#1", "0L,1-5", "SUN#2,SAT"])
    return "*/2", "*"


def _minute_case(rng: random.Random) -> tuple[str, str, datetime]:
    zone_name, year = rng.choice(ZONE_YEARS)
    zone = ZoneInfo(zone_name)
    change = rng.choice(transitions(zone, year))
    around = (change - timedelta(minutes=1)).astimezone(zone).hour
    dom, dow = _pick_day_fields(rng)
    expr = f"{_pick_minute(rng)} {_pick_hour(rng, around)} {dom} * {dow}"
    return expr, zone_name, change


def _compare(expr: str, zone_name: str, start: datetime, end: datetime, rng: random.Random) -> None:
    zone = ZoneInfo(zone_name)
    expected = Oracle(expr, zone).fires(start, end)
    cron = Cron(expr, zone_name)
    got: list[datetime] = []
    cursor = start - timedelta(microseconds=1)
    while True:
        nxt = cron.next_after(cursor)
        assert nxt is not None
        if nxt >= end:
            break
        got.append(nxt)
        cursor = nxt
    context = f"{expr!r} in {zone_name} from {start.isoformat()}"
    assert [g.astimezone(zone).isoformat() for g in got] == [
        e.astimezone(zone).isoformat() for e in expected
    ], context
    # From arbitrary instants too, not just from the previous fire.
    span = (end - start).total_seconds()
    for _ in range(6):
        probe = start + timedelta(seconds=rng.uniform(0, span))
        want = next((e for e in expected if e > probe), None)
        result = cron.next_after(probe)
        if want is not None:
            assert result == want, f"{context}, next_after({probe.isoformat()})"
        else:
            assert result is not None and result >= end, (
                f"{context}, next_after({probe.isoformat()})"
            )


@pytest.mark.slow
# In five chunks of their own seeds, so that the test processes share them.
@pytest.mark.parametrize("chunk", range(5))
def test_minute_expressions_match_the_oracle_across_clock_changes(chunk: int) -> None:
    rng = random.Random(20261122 + chunk)
    for _ in range(MINUTE_CASES // 5):
        expr, zone_name, change = _minute_case(rng)
        _compare(expr, zone_name, change - timedelta(hours=5), change + timedelta(hours=5), rng)


@pytest.mark.slow
def test_second_expressions_match_the_oracle_across_clock_changes() -> None:
    rng = random.Random(7)
    for _ in range(SECOND_CASES):
        zone_name, year = rng.choice(ZONE_YEARS)
        change = rng.choice(transitions(ZoneInfo(zone_name), year))
        around = (change - timedelta(minutes=1)).astimezone(ZoneInfo(zone_name))
        minute = rng.choice(["*", "*/20", str(around.minute), f"{around.minute}-59"])
        hour = rng.choice(["*", str(around.hour), f"{around.hour},{(around.hour + 1) % 24}"])
        second = rng.choice(["0", "*/15", "10,40", "*/7"])
        expr = f"{minute} {hour} * * * {second}"
        _compare(
            expr, zone_name, change - timedelta(minutes=25), change + timedelta(minutes=25), rng
        )


def _pick_dom(rng: random.Random) -> str:
    return rng.choice(
        [
            *["*", "*/2", "*/3", "1", "15", "31", "L", "15W", "1W", "31W", "1-7", "8-14,22", "?"],
            "29",
            # lists that mix W or L with plain days: the union of their elements
            *["L,15W", "1W,15", "1,L", "15W,31W"],
        ]
    )


def _pick_dow(rng: random.Random) -> str:
    return rng.choice(
        [
            *["*", "1", "MON-FRI", "0", "7", "SAT,SUN", "5L", "1#2", "FRI#3", "*/2", "3", "?"],
            "1-3",
            # lists that mix plain weekdays with L or #: the union of their elements
            *["4,4#2", "5,5L", "6,2#1", "5L,1", "1,2,3#1", "0#1,0L", "MON-WED,FRI#3"],
        ]
    )


@pytest.mark.slow
def test_day_fields_match_the_oracle() -> None:
    """Day-of-month x day-of-week (AND/OR, L, W, #) over two years, in UTC."""
    rng = random.Random(99)
    for _ in range(DAY_CASES):
        dom, dow = _pick_dom(rng), _pick_dow(rng)
        month = rng.choice(["*", "*", "2", "1-6", "FEB,MAR", "*/4"])
        expr = f"{rng.randrange(60)} {rng.randrange(24)} {dom} {month} {dow}"
        start = datetime(rng.choice([2024, 2025, 2026, 2027]), 1, 1, tzinfo=UTC)
        _compare_days(expr, start, start + timedelta(days=731))


def _compare_days(expr: str, start: datetime, end: datetime) -> None:
    """Like _compare, but the oracle walks days: each expression has one fixed time."""
    minute, hour = (int(v) for v in expr.split()[:2])
    oracle = Oracle(expr, ZoneInfo("UTC"))
    expected = []
    day = start.replace(hour=hour, minute=minute)
    while day < end:
        if oracle.matches(day.replace(tzinfo=None)):
            expected.append(day)
        day += timedelta(days=1)
    try:
        cron = Cron(expr, "UTC")
    except InvalidSchedule as error:  # e.g. 31 February: the oracle must agree
        assert "never matches" in str(error)
        assert expected == [], expr
        return
    got: list[datetime] = []
    cursor = start - timedelta(microseconds=1)
    while (nxt := cron.next_after(cursor)) is not None and nxt < end:
        got.append(nxt)
        cursor = nxt
    assert got == expected, expr
