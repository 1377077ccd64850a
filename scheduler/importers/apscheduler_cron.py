"""An APScheduler 3 ``CronTrigger`` as a cron expression that means the same.

Three things differ from cron.  APScheduler numbers weekdays from Monday
(``0`` is Monday, ``6`` Sunday), so weekdays are written by name here.  It ANDs
``day`` with ``day_of_week`` where cron ORs two restricted fields, so the pair
is rewritten with :mod:`.days` or flagged.  And its ``day`` field also takes
``1st mon`` and ``last fri``, which cron writes in the day-of-week field
(``1#1``, ``5L``).  ``week`` (the ISO week) has no cron field, and neither
has ``year``: one year or one range of years becomes the job's window
(:func:`year_span`), anything else is refused.

The trigger objects are APScheduler's; its modules are imported by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .days import nth_weekdays, weekday_list

__all__ = ["CronText", "YearSpan", "cron_text", "year_span"]

_LOW = {"second": 0, "minute": 0, "hour": 0, "day": 1, "month": 1, "day_of_week": 0}
_HIGH = {"second": 59, "minute": 59, "hour": 23, "day": 31, "month": 12, "day_of_week": 6}


@dataclass(frozen=True, slots=True)
class CronText:
    """The expression (None when there is none), and why it needs a look or cannot be."""

    expr: str | None
    problem: str | None = None


def cron_text(trigger: Any) -> CronText:
    """The cron expression for ``trigger``'s fields (its zone and dates are the caller's)."""
    fields = {field.name: field for field in trigger.fields}
    if str(fields["week"]) != "*":
        return CronText(None, f"its week field {str(fields['week'])!r} has no cron equivalent")
    years = year_span(trigger)
    if years.problem:
        return CronText(None, years.problem)
    dom, dow, problem = _days(fields["day"], fields["day_of_week"])
    parts = [_plain(fields[name]) for name in ("minute", "hour")]
    parts += [dom, _plain(fields["month"]), dow]
    second = _plain(fields["second"])
    if second != "0":
        parts.append(second)
    return CronText(" ".join(parts), problem)


@dataclass(frozen=True, slots=True)
class YearSpan:
    """The years a trigger's ``year`` field allows, first and last (both None: any
    year), or why they are no window."""

    first: int | None = None
    last: int | None = None
    problem: str | None = None


def year_span(trigger: Any) -> YearSpan:
    """``trigger``'s ``year`` field as one span of years: ``2027`` or ``2026-2028``
    (a window of the job), ``*`` (none); a list or a step of years is a problem."""
    field = next(field for field in trigger.fields if field.name == "year")
    if str(field) == "*":
        return YearSpan()
    [*exprs] = field.expressions
    first = getattr(exprs[0], "first", None) if len(exprs) == 1 else None
    if first is None or exprs[0].step:
        return YearSpan(
            problem=f"its year field {str(field)!r} is not one year or one range of years, "
            "the only kinds a window (start and end) can stand for"
        )
    last = exprs[0].last
    return YearSpan(first, first if last is None else last)


def _plain(field: Any) -> str:
    return ",".join(_expression(expr, field.name) for expr in field.expressions)


def _expression(expr: Any, name: str) -> str:
    if type(expr).__name__ == "LastDayOfMonthExpression":
        return "L"
    first = getattr(expr, "first", None)
    step = f"/{expr.step}" if expr.step else ""
    if first is None:  # '*' or '*/n': kept, as a leading '*' matters to the day fields
        return "*" + step
    last = _HIGH[name] if expr.last is None else expr.last
    return (str(first) if first == last and not step else f"{first}-{last}") + step


def _weekdays(field: Any) -> set[int]:
    """The cron weekdays (0 is Sunday) ``day_of_week`` allows."""
    days: set[int] = set()
    for expr in field.expressions:
        first = getattr(expr, "first", None)
        low = 0 if first is None else first
        high = 6 if getattr(expr, "last", None) is None else expr.last
        days.update((day + 1) % 7 for day in range(low, high + 1, expr.step or 1))
    return days


def _days(day: Any, day_of_week: Any) -> tuple[str, str, str | None]:
    """(day of month, day of week, a problem) for APScheduler's AND of the two."""
    weekdays = _weekdays(day_of_week)
    dow = "*" if len(weekdays) == 7 else weekday_list(weekdays)
    plain = [e for e in day.expressions if type(e).__name__ not in _POSITIONAL]
    positional = [_position(e) for e in day.expressions if type(e).__name__ in _POSITIONAL]
    dom = ",".join(_expression(e, "day") for e in plain) or "*"
    if positional and dom != "*" and dom.startswith("*"):
        return dom, ",".join(positional), _BOTH.format(dom=str(day), dow=str(day_of_week))
    if positional:  # cron ORs a restricted day of month with these; APScheduler unions them too
        if dow == "*":
            return dom, ",".join(positional), None
        return dom, ",".join(positional), _BOTH.format(dom=str(day), dow=str(day_of_week))
    if dow == "*" or dom.startswith("*"):  # cron ANDs these, as APScheduler does
        return dom, dow, None
    nth = nth_weekdays(dom, weekdays)
    if nth is not None:
        return "*", nth, None
    return dom, dow, _BOTH.format(dom=str(day), dow=str(day_of_week))


def _position(expr: Any) -> str:
    weekday = (expr.weekday + 1) % 7
    return f"{weekday}L" if expr.option_num == 5 else f"{weekday}#{expr.option_num + 1}"


_POSITIONAL = ("WeekdayPositionExpression",)
_BOTH = (
    "APScheduler runs it only on days matching both day {dom!r} and day_of_week {dow!r}; "
    "in cron either is enough"
)
