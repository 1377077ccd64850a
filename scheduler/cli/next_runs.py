"""``tickwork next``: the next run times of a cron expression or interval,
optionally through a calendar, and with ``--explain`` the slots it took away."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TextIO

from ..errors import SchedulerError
from ..model.jobs import JobSpec
from ..schedules.calendared import excluded_slots
from ..schedules.calendars import Calendar, Holidays, OnExcluded
from ..schedules.kinds import Cron, Every, Schedule, get_zone
from .options import positive_int

__all__ = ["add_next", "explain_calendar", "instant_arg"]

EXIT_OK = 0


def add_next(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``next`` command."""
    sub = commands.add_parser(
        "next",
        help="print the next run times of a cron expression or interval",
        description="Print the next run times of a schedule, one ISO-8601 instant per line, "
        "with the offset of --tz.  The calendar options leave out (or move) the slots on "
        "excluded days; --explain also lists those slots and why.",
    )
    what = sub.add_mutually_exclusive_group(required=True)
    what.add_argument("expr", nargs="?", metavar="EXPR", help='cron expression, e.g. "30 2 * * *"')
    what.add_argument("--every", metavar="DURATION", help="an interval instead, e.g. 15m or 1h30m")
    sub.add_argument("--tz", default="UTC", metavar="ZONE", help="IANA time zone (default UTC)")
    sub.add_argument(
        "--after",
        metavar="ISO",
        help="start strictly after this instant (default now); read in --tz if it has no offset",
    )
    sub.add_argument(
        "--count", type=positive_int, default=5, metavar="N", help="how many (default 5)"
    )
    sub.add_argument("--name", default="", help="job name that seeds H fields")
    sub.add_argument("--anchor", metavar="ISO", help="with --every: count intervals from here")
    days = sub.add_argument_group("calendar (the days in --tz)")
    days.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="DATES",
        help="a date or range to leave out, e.g. 2026-12-24 or 2026-12-24..2027-01-01 (repeatable)",
    )
    days.add_argument(
        "--holidays",
        metavar="COUNTRY[-SUBDIVISION]",
        help="leave out the public holidays of a country, e.g. DE-BY or US "
        "(the 'holidays' package: pip install 'tickwork[calendars]')",
    )
    days.add_argument(
        "--business-days", action="store_true", help="leave out weekends (and --holidays)"
    )
    days.add_argument(
        "--on-excluded",
        choices=[policy.value for policy in OnExcluded],
        default=OnExcluded.SKIP.value,
        help="what becomes of a slot on an excluded day (default skip)",
    )
    days.add_argument(
        "--explain", action="store_true", help="also list the slots left out or moved, and why"
    )
    sub.set_defaults(handler=run_next)


def instant_arg(text: str | None, zone_name: str, what: str) -> datetime:
    """``text`` (ISO-8601; read in ``zone_name`` without an offset) in UTC; now if ``None``."""
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise SchedulerError(
            f"{what} {text!r} is not an ISO-8601 instant such as 2026-03-28T12:00:00+01:00"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=get_zone(zone_name))
    return value.astimezone(UTC)


def run_next(args: argparse.Namespace, out: TextIO) -> int:
    """Print the next runs (and with ``--explain``, what the calendar left out)."""
    zone = get_zone(args.tz)
    schedule: Cron | Every
    if args.every is not None:
        anchor = instant_arg(args.anchor, args.tz, "--anchor") if args.anchor else None
        schedule = Every(args.every, anchor=anchor)
    else:
        schedule = Cron(args.expr, zone.key, hash_key=args.name)
    calendar = _calendar(args)
    job = JobSpec(
        name=args.name or "next", task="next", schedule=schedule, timezone=zone.key,
        calendar=calendar,
    )  # fmt: skip
    after = instant_arg(args.after, args.tz, "--after")
    runs: list[datetime] = []
    current: datetime | None = after
    while current is not None and len(runs) < args.count:
        current = job.next_after(current)
        if current is not None:
            runs.append(current)
    for instant in runs:
        print(instant.astimezone(zone).isoformat(timespec="seconds"), file=out)
    if args.explain:
        explain_calendar(schedule, calendar, zone.key, after, runs, out)
    return EXIT_OK


def _calendar(args: argparse.Namespace) -> Calendar:
    holidays = None
    if args.holidays:
        country, _, subdivision = args.holidays.partition("-")
        holidays = Holidays(country, subdivision or None)
    return Calendar(
        exclude=tuple(args.exclude),
        holidays=holidays,
        business_days=args.business_days,
        on_excluded=args.on_excluded,
    )


def explain_calendar(
    schedule: Schedule,
    calendar: Calendar,
    zone: str,
    after: datetime,
    runs: list[datetime],
    out: TextIO,
) -> None:
    """Print the slots ``calendar`` left out or moved between ``after`` and the last of ``runs``."""
    print(file=out)
    if calendar.is_default:
        print("no calendar: no slot is left out", file=out)
        return
    if not runs:
        print("no run within reach: the calendar excludes every day", file=out)
        return
    tz = get_zone(zone)
    left = list(excluded_slots(schedule, calendar, zone, after, runs[-1]))
    if not left:
        print("no slot was left out between these runs", file=out)
    for item in left:
        slot = item.slot.astimezone(tz).isoformat(timespec="seconds")
        if item.moved_to is None:
            print(f"left out {slot}: {item.reason}", file=out)
        else:
            moved = item.moved_to.astimezone(tz).isoformat(timespec="seconds")
            print(f"moved    {slot} to {moved}: {item.reason}", file=out)
