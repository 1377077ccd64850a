"""The next runs of a schedule, as the job form shows them while it is typed.

:func:`preview_values` reads the form's current values (the same readers the
form uses, so the preview and the save agree on what is valid), and
:func:`preview_spec` a stored definition; both give a :class:`Preview` that
``scheduler/admin/preview.html`` renders.  Nothing here writes anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...errors import SchedulerError
from ...model.chains import ChainWhen, is_chain_only, is_join, listed
from ...model.jobs import JobSpec
from ...schedules.calendared import excluded_slots
from ...schedules.kinds import Once, upcoming
from .calendar_fields import read_job_calendar
from .chain_fields import read_after, stored_after
from .display import local_time, relative, schedule_expression, schedule_words
from .inputs import FieldProblem, read_instant, read_schedule, read_zone

__all__ = ["COUNT", "Preview", "PreviewRun", "preview_spec", "preview_values"]

#: How many runs the preview shows.
COUNT = 5
_PLACEHOLDER_TASK = "preview.task"
_FIELD_LABELS = {
    "schedule_type": "Schedule",
    "cron": "Cron expression",
    "every": "Every",
    "at": "At",
    "timezone": "Time zone",
    "start": "Start",
    "end": "End",
    "shared_calendar": "Shared calendar",
    "exclude": "Excluded days",
    "holidays": "Public holidays of",
    "on_excluded": "A slot on an excluded day",
    "after": "Run after",
}
_ONE_OFF_CALENDAR = (
    "A one-off job runs at its instant: a calendar applies to cron, interval and "
    "sun schedules. Clear the calendar fields, or choose another kind of schedule."
)
#: How many slots the calendar left out the preview explains.
EXPLAINED = 5
# What the box says before the chosen kind of schedule is typed: a prompt, not
# an error (the form reports a blank schedule only when it is submitted).
_PROMPTS = {
    "cron": "Type a cron expression to see its next runs.",
    "every": "Type an interval to see its next runs.",
    "at": "Type when to run to see that run.",
    "after": "Name the job this one runs after.",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewRun:
    """One upcoming run: on the job's wall clock, in UTC, and from now."""

    local: str
    utc: str
    relative: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Preview:
    """What the preview box shows: the schedule in words and its next runs, a problem,
    or (nothing typed yet) a prompt."""

    words: str = ""
    expression: str = ""
    timezone: str = ""
    runs: tuple[PreviewRun, ...] = ()
    field: str = ""
    problem: str = ""
    notes: tuple[str, ...] = ()
    prompt: str = ""

    @property
    def field_label(self) -> str:
        return _FIELD_LABELS.get(self.field, self.field)


def preview_values(values: Mapping[str, str], now: datetime) -> Preview:
    """The preview for the job form's current ``values`` (strings, as posted).

    A blank schedule of the chosen kind gives a :attr:`Preview.prompt`: the
    box opens with the form, before anything is typed, and shows no error then.
    """
    name = values.get("name", "").strip()
    kind = values.get("schedule_type", "cron")
    if kind in _PROMPTS and not values.get(kind, "").strip():
        return Preview(prompt=_PROMPTS[kind])
    try:
        zone = read_zone(values.get("timezone", "") or "UTC")
        start = read_instant("start", values.get("start", ""), zone)
        end = read_instant("end", values.get("end", ""), zone)
        texts = {key: values.get(key, "") for key in ("cron", "every", "at", "solar")}
        schedule = read_schedule(kind, texts, zone=zone, name=name, start=start)
        calendar = read_job_calendar(values)
        if kind == "at" and not calendar.is_default:
            raise FieldProblem("exclude", _ONE_OFF_CALENDAR)
        usable = _usable_name(name)
        after = read_after(values.get("after", ""), usable, stored_after)
        spec = JobSpec(
            name=usable,
            task=_PLACEHOLDER_TASK,
            schedule=schedule,
            timezone=zone.key,
            start=start,
            end=end,
            calendar=calendar,
            after=after,
            when=_when(values.get("when", "")),
        )
    except FieldProblem as problem:
        return Preview(field=problem.field, problem=problem.message)
    except SchedulerError as error:  # start after end, and the like
        return Preview(field="end", problem=_after_prefix(str(error)))
    return preview_spec(spec, now)


def preview_spec(spec: JobSpec, now: datetime, *, notes: tuple[str, ...] = ()) -> Preview:
    """The next :data:`COUNT` runs of ``spec`` after ``now``, inside its window,
    and what its upstream jobs start, if it runs after any."""
    if spec.after:
        notes = (*notes, _chain_note(spec))
    if is_chain_only(spec.schedule):
        return Preview(words=schedule_words(spec), timezone=spec.timezone, notes=notes)
    runs = tuple(
        PreviewRun(
            local=local_time(instant, spec.timezone),
            utc=instant.isoformat(),
            relative=relative(instant, now),
        )
        for instant in upcoming(spec, now, COUNT)
    )
    if not runs:
        notes = (*notes, "No runs after now: the schedule or its window has ended.")
    notes = (*notes, *_left_out(spec, now, runs))
    return Preview(
        words=schedule_words(spec),
        expression=schedule_expression(spec),
        timezone=spec.timezone,
        runs=runs,
        notes=notes,
    )


def _left_out(spec: JobSpec, now: datetime, runs: tuple[PreviewRun, ...]) -> list[str]:
    """What the job's calendar took from the schedule up to the last run shown
    (a year ahead when no run is left), and why: at most :data:`EXPLAINED` lines."""
    if spec.calendar.is_default or isinstance(spec.schedule, Once):
        return []
    until = datetime.fromisoformat(runs[-1].utc) if runs else now + timedelta(days=366)
    found = list(
        excluded_slots(spec.schedule, spec.calendar, spec.timezone, now, until, EXPLAINED + 1)
    )
    lines = []
    for item in found[:EXPLAINED]:
        moved = (
            f", moved to {local_time(item.moved_to, spec.timezone)}"
            if item.moved_to is not None
            else ""
        )
        lines.append(f"Left out {local_time(item.slot, spec.timezone)}: {item.reason}{moved}.")
    if len(found) > EXPLAINED:
        lines.append("And more slots on excluded days after those.")
    return lines


_JOINED = {
    ChainWhen.SUCCEEDED: "succeeded",
    ChainWhen.FAILED: "failed, timed out or was lost",
    ChainWhen.FINISHED: "ended, succeeded or failed",
}


def _chain_note(spec: JobSpec) -> str:
    """What starts the runs of a job that runs after others, in a sentence."""
    endings = {
        ChainWhen.SUCCEEDED: "succeeds",
        ChainWhen.FAILED: "fails, times out or is lost",
        ChainWhen.FINISHED: "ends, succeeded or failed",
    }[spec.when]
    own = "" if is_chain_only(spec.schedule) else ", besides the runs below"
    if is_join(spec.after):
        return (
            f"Runs once for each slot for which {listed(spec.after)} all had a run that "
            f"{_JOINED[spec.when]}{own}."
        )
    return f"Runs once each time a run of {spec.after[0]} {endings}{own}."


def _when(text: str) -> ChainWhen:
    try:
        return ChainWhen(text or ChainWhen.SUCCEEDED.value)
    except ValueError:
        raise FieldProblem("when", f"Choose succeeded, failed or finished, not {text!r}.") from None


def _usable_name(name: str) -> str:
    """``name`` if it is a valid job name, else a stand-in: the preview does not judge names."""
    try:
        JobSpec.build(name=name, task=_PLACEHOLDER_TASK, every="1h")
    except SchedulerError:
        return "preview"
    return name


def _after_prefix(message: str) -> str:
    return message.split(": ", 1)[1] if message.startswith("job ") else message
