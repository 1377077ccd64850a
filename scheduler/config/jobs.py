"""Reading the jobs of a schedules file: one entry of ``jobs`` in, one JobSpec out."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import SchedulerError
from ..model.chains import CHAIN_ONLY
from ..model.jobs import JobSpec, ScheduleType, validate_field
from ..model.policies import JobSource
from ..schedules.calendars import CALENDAR_KEYS, Calendar
from ..schedules.kinds import Cron, Every, Once
from ..schedules.solar import Solar
from .calendars import job_calendar
from .keys import JOB_KEYS, SCHEDULE_KEYS, SPEC_FIELDS
from .loaded import JobLocations, Location
from .nodes import MERGE_TAG, MERGE_UNSUPPORTED, Entry, child_path, position
from .walker import Setting, Walker

__all__ = ["JobReader"]

#: The job keys that make its calendar.
CALENDAR_JOB_KEYS = (*CALENDAR_KEYS, "calendar")
_NO_CALENDAR = Calendar()
_DECLARED = ("task", "executor")
#: The keys of a job's own settings, their (relative line, column) spots, or
#: the task and executor it names.
_Shape = tuple[Any, ...]
#: How many distinct shapes a read shares (beyond that, each job keeps its own).
_MAX_SHAPES = 4096
_NOWHERE: Mapping[str, Location] = {}
#: The fields a job's spec gets from the reader, not as the walker read them.
_SET_HERE = frozenset({"name", "schedule", "timezone", "calendar", "source"})


@dataclass(frozen=True, slots=True, kw_only=True)
class _Draft:
    """One job while it is being read: where it is and what it says so far."""

    entry: Entry
    name: str
    path: str
    known: Mapping[str, Entry]
    own: Mapping[str, Setting]
    merged: Mapping[str, Setting]  # the defaults, overridden by the job's own settings
    zone: str


class JobReader:
    """Reads the entries of ``jobs`` with ``walker``, which records their issues.

    :attr:`locations` collects where each job's name and settings are written,
    for :class:`~scheduler.config.loaded.LoadedSchedules` (a bad job's too: a
    check reports more about it), and :attr:`declared` the task and executor
    each job names.
    """

    def __init__(self, walker: Walker) -> None:
        self.walker = walker
        self.locations: dict[str, JobLocations] = {}
        #: The file's named calendars, which a job's ``calendar`` key names.
        self.calendars: dict[str, Calendar] = {}
        #: The task and executor each job names (bad jobs' too), for checks.
        self.declared: dict[str, Mapping[str, str]] = {}
        self._shapes: dict[_Shape, Any] = {}
        self._taken: dict[tuple[tuple[str, int], ...], tuple[dict[str, Location], object]] = {}

    def job(self, entry: Entry, zone: str, defaults: Mapping[str, Setting]) -> JobSpec | None:
        """The job of ``entry``, read in ``zone`` over ``defaults``; ``None`` if it has
        any issue."""
        before = len(self.walker.issues)
        draft = self._draft(entry, zone, defaults)
        if draft is None:
            return None
        self._locate(draft)
        declared = self._declare(draft)
        schedule = self._schedule(draft, draft.merged.get("start"))
        self._require_task(draft)
        self._check_window(draft.merged)
        self._check_after(draft)
        calendar = self._calendar(draft, schedule)
        if len(self.walker.issues) > before or schedule is None or calendar is None:
            return None
        values = {key: item.value for key, item in draft.merged.items() if key in SPEC_FIELDS}
        if values.get("task") == declared.get("task"):
            values["task"] = declared["task"]  # the string shared by jobs naming it
        checked = values.keys() - _SET_HERE  # each read and checked by the walker
        values.update(name=draft.name, schedule=schedule, timezone=draft.zone, calendar=calendar)
        return self._build(draft, checked, values)

    def _locate(self, draft: _Draft) -> None:
        """Remember where the job's name and each of its settings are written."""
        line, column = position(draft.entry.key_node)
        keys = tuple(draft.own)
        spots: list[int] = []
        for setting in draft.own.values():
            setting_line, setting_column = position(setting.node)
            spots += (setting_line - line, setting_column)
        self.locations[draft.name] = JobLocations(
            draft.name, (line, column), self._shared(keys), self._shared(tuple(spots)),
            self._inherited(draft),
        )  # fmt: skip

    def _shared(self, shape: _Shape, kept: Any = None) -> Any:
        """What was kept for an equal ``shape`` before, else ``kept`` (``shape``
        itself by default): jobs written alike share one."""
        value = shape if kept is None else kept
        if len(self._shapes) >= _MAX_SHAPES:
            return self._shapes.get(shape, value)
        return self._shapes.setdefault(shape, value)

    def _inherited(self, draft: _Draft) -> Mapping[str, Location]:
        """Where the settings the job takes from ``defaults`` are written: one
        mapping for every job that takes the same ones."""
        taken = tuple(
            (key, setting) for key, setting in draft.merged.items() if key not in draft.own
        )
        if not taken:
            return _NOWHERE
        identity = tuple((key, id(setting)) for key, setting in taken)
        found = self._taken.get(identity)
        if found is None:
            where = {key: Location(*position(item.node), item.path) for key, item in taken}
            found = self._taken[identity] = (where, taken)  # taken: keeps each id its own
        return found[0]

    def _declare(self, draft: _Draft) -> Mapping[str, str]:
        """Remember the task and executor the job names, if they could be read
        (one mapping, and one string each, for all the jobs that name the same)."""
        merged = draft.merged
        named = tuple((key, str(merged[key].value)) for key in _DECLARED if key in merged)
        found: Mapping[str, str] = self._shared(named, dict(named))
        self.declared[draft.name] = found
        return found

    def _draft(self, entry: Entry, zone: str, defaults: Mapping[str, Setting]) -> _Draft | None:
        name = self._name(entry)
        if name is None:
            return None
        path = child_path("jobs", name)
        pairs = self.walker.mapping(entry.value, path, "a mapping of job settings")
        if pairs is None:
            return None
        known = self.walker.known(pairs, JOB_KEYS, path)
        own = self.walker.settings(known, path)
        merged = {**defaults, **own}
        zone = merged["timezone"].value if "timezone" in merged else zone
        return _Draft(
            entry=entry, name=name, path=path, known=known, own=own, merged=merged, zone=zone
        )

    def _name(self, entry: Entry) -> str | None:
        """The job's name, even when it is not valid; ``None`` for a merge key."""
        name = str(entry.key_node.value)
        path = child_path("jobs", name)
        if entry.key_node.tag == MERGE_TAG:
            self.walker.issue(entry.key_node, path, MERGE_UNSUPPORTED)
            return None
        if entry.key is None:
            found = self.walker.doc.describe(entry.key_node)
            message = f"expected a job name string, got {found}; quote it"
            self.walker.issue(entry.key_node, path, message)
            return name
        try:
            validate_field("name", name)
        except SchedulerError as error:
            self.walker.issue(entry.key_node, path, f"invalid job name: {error}")
        return name

    def _schedule(self, draft: _Draft, start: Setting | None) -> ScheduleType | None:
        given = [key for key in SCHEDULE_KEYS if key in draft.known]
        expected = "expected exactly one of 'cron', 'every', 'at' or 'solar'"
        if not given and "after" in draft.known:
            return CHAIN_ONLY  # runs only after its upstream job
        if not given:
            message = f"{expected} (or 'after', to run only after another job), got none"
            self.walker.issue(draft.entry.key_node, draft.path, message)
            return None
        built = [self._one_schedule(key, draft, start) for key in given]
        if len(given) > 1:
            extra, found = given[1], " and ".join(map(repr, given))
            where = child_path(draft.path, extra)
            self.walker.issue(draft.known[extra].key_node, where, f"{expected}, got {found}")
            return None
        return built[0]

    def _one_schedule(self, key: str, draft: _Draft, start: Setting | None) -> ScheduleType | None:
        setting = draft.own.get(key)
        if setting is None:  # its value was wrong, and reported
            return None
        try:
            return _make_schedule(key, setting.value, draft, start)
        except SchedulerError as error:
            self.walker.issue(setting.node, setting.path, str(error))
            return None

    def _calendar(self, draft: _Draft, schedule: ScheduleType | None) -> Calendar | None:
        if isinstance(schedule, Once) and not any(key in draft.own for key in CALENDAR_JOB_KEYS):
            return Calendar()  # a one-off job runs at its instant, whatever the defaults say
        if not any(key in draft.merged for key in CALENDAR_JOB_KEYS):
            return _NO_CALENDAR  # most jobs: nothing to read (a tenth of a file's reading)
        return job_calendar(self.walker, draft.merged, self.calendars, draft.entry, draft.path)

    def _require_task(self, draft: _Draft) -> None:
        if "task" not in draft.known:
            self.walker.issue(draft.entry.key_node, draft.path, "missing required key 'task'")

    def _check_window(self, merged: Mapping[str, Setting]) -> None:
        start, end = merged.get("start"), merged.get("end")
        if start is None or end is None or start.value is None or end.value is None:
            return
        if start.value >= end.value:
            begin = start.value.isoformat()
            message = f"expected an end after start ({begin}), got {end.value.isoformat()}"
            self.walker.issue(end.node, end.path, message)

    def _check_after(self, draft: _Draft) -> None:
        after = draft.own.get("after")
        if after is not None and draft.name in after.value:
            message = f"a job cannot run after itself: {draft.name!r} names itself"
            self.walker.issue(after.node, after.path, message)

    def _build(
        self, draft: _Draft, checked: Collection[str], values: dict[str, Any]
    ) -> JobSpec | None:
        try:
            return JobSpec.from_fields(**values, source=JobSource.YAML, checked=checked)
        except SchedulerError as error:  # every field was checked: a rule not mirrored here
            self.walker.issue(draft.entry.key_node, draft.path, str(error))
            return None


def _make_schedule(key: str, value: Any, draft: _Draft, start: Setting | None) -> ScheduleType:
    if key == "cron":
        return Cron(value, tz=draft.zone, hash_key=draft.name)
    if key == "every":
        return Every(value, anchor=None if start is None else start.value)
    if key == "solar":
        return Solar.parse(value)
    return Once(value)
