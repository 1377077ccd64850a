"""What a job is: :class:`JobSpec`, validated when built.

A :class:`JobSpec` says what to run (a task and its JSON arguments), when
(a :class:`~scheduler.schedules.Cron`, :class:`~scheduler.schedules.Every` or
:class:`~scheduler.schedules.Once` inside an optional start/end window) and with
which policies (one :class:`~scheduler.model.job_policy.JobPolicy`).  It is a
frozen value: change it with :func:`dataclasses.replace`, which validates the
result again.

Values are normalised on the way in, so that two specs that mean the same job
compare equal and share a :meth:`JobSpec.definition_hash`: instants become UTC,
arguments become exactly what JSON gives back (tuples inside them become lists),
and policies become their enum members.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from ..clock import ensure_aware_utc
from ..errors import InvalidJob, InvalidSchedule, SchedulerError
from ..schedules.calendared import next_allowed_after
from ..schedules.calendars import Calendar
from ..schedules.durations import parse_duration
from ..schedules.kinds import Cron, Every, Once
from ..schedules.solar import Solar
from .canonical import definition_hash, hashed_fields
from .chains import CHAIN_ONLY, ChainWhen, after_text, is_chain_only
from .encoding import decode_field, decode_schedule, encode_field
from .fields import FIELD_NAMES, JSONValue, ScheduleType, checked_field, validate_field
from .job_policy import DEFAULT_POLICY, POLICY_FIELDS, JobPolicy
from .notify import JobNotify
from .policies import CatchupPolicy, JobSource, OverlapPolicy
from .together import check_together, field_defaults

__all__ = [
    "POLICY_FIELDS",
    "JSONValue",
    "JobNotify",
    "JobPolicy",
    "JobSpec",
    "ScheduleType",
    "trusted_copy",
    "trusted_spec",
    "validate_field",
]

_MICROSECOND = timedelta(microseconds=1)
_DEFAULT_NOTIFY = JobNotify()
_NO_CALENDAR = Calendar()


class _KeepsHash:
    """A slot for a spec's definition hash once computed: not a field, so
    neither compared, copied nor stored (a sync compares it for every spec)."""

    __slots__ = ("_definition_hash",)
    _definition_hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class JobSpec(_KeepsHash):
    """One job definition: what to run, when, and with which policies.

    Built directly, with :meth:`build`, from flat field values with
    :meth:`from_fields`, or from :meth:`from_dict`; every field is checked
    when built, which raises :class:`~scheduler.errors.InvalidJob` (or
    :class:`~scheduler.errors.InvalidSchedule` for a time zone) naming the
    field and the bad value.  The policies (catch-up, overlap, jitter,
    timeout, retries) are one value, ``policy``; :meth:`build`,
    :meth:`from_fields` and :meth:`to_dict` take and give them flat, as the
    schedules file writes them.
    The ``end`` of the window is inclusive: a slot at exactly ``end`` is due.
    A :class:`~scheduler.schedules.Cron` schedule must be read in the job's ``timezone``.
    """

    name: str
    task: str
    schedule: ScheduleType
    args: tuple[JSONValue, ...] = ()
    kwargs: dict[str, JSONValue] = field(default_factory=dict)
    timezone: str = "UTC"
    enabled: bool = True
    start: datetime | None = None
    end: datetime | None = None
    policy: JobPolicy = DEFAULT_POLICY
    executor: str = "default"
    queue: str | None = None
    description: str = ""
    source: JobSource = JobSource.CODE
    notify: JobNotify = _DEFAULT_NOTIFY
    calendar: Calendar = _NO_CALENDAR
    #: The upstream jobs this one runs after (two or more: a join); empty: not chained.
    after: tuple[str, ...] = ()
    #: Which endings of an upstream run start a run of this job.
    when: ChainWhen = ChainWhen.SUCCEEDED

    def __post_init__(self) -> None:
        for name in _OWN_FIELDS:
            if (value := getattr(self, name)) is not _CONSTANT_DEFAULTS[name]:  # a default is good
                object.__setattr__(self, name, checked_field(self.name, name, value))
        check_together(self)

    def __hash__(self) -> int:
        # The generated hash would fail on the kwargs dict; the definition
        # hash covers the same fields that equality compares.
        return hash(self.definition_hash())

    @classmethod
    def build(
        cls,
        *,
        name: str,
        task: str,
        cron: str | None = None,
        every: str | int | float | timedelta | None = None,
        at: datetime | None = None,
        solar: Any = None,
        timezone: str = "UTC",
        **options: Any,
    ) -> JobSpec:
        """Build a spec from exactly one of ``cron``, ``every`` or ``at``.

        ``cron`` is read in ``timezone`` and hashes ``H`` fields by ``name``;
        With none of them but ``after``, the job runs only after its upstream
        (its schedule is :data:`~scheduler.model.chains.CHAIN_ONLY`).
        ``every`` (``"15m"``, seconds or a timedelta) counts from ``start``
        when one is given; ``at`` is a timezone-aware instant.  ``options``
        are the other fields, the policy ones flat (``retries=3``), as
        :meth:`from_fields` takes them.
        """
        chosen = (("cron", cron), ("every", every), ("at", at), ("solar", solar))
        given = [key for key, value in chosen if value is not None]
        if not given and options.get("after"):
            return cls.from_fields(
                name=name, task=task, schedule=CHAIN_ONLY, timezone=timezone, **options
            )
        if len(given) != 1:
            found = " and ".join(given) or "none"
            raise InvalidJob(
                f"job {name!r}: give exactly one of cron, every, at or solar, got {found}"
            )
        start = checked_field(name, "start", options.get("start"))
        try:
            schedule = _schedule(name, timezone, start, cron, every, at, solar)
        except SchedulerError as error:
            raise InvalidSchedule(f"job {name!r}: {given[0]}: {error}") from None
        return cls.from_fields(
            name=name, task=task, schedule=schedule, timezone=timezone, **options
        )

    @classmethod
    def from_fields(cls, *, checked: Collection[str] = (), **values: Any) -> JobSpec:
        """A spec from flat field values, as a schedules file or a form gives them.

        The policy fields (:data:`POLICY_FIELDS`: ``catchup``, ``retries``,
        ...) become its :class:`JobPolicy`; the others are :class:`JobSpec`
        fields.  Errors name the job and the field, as ``JobSpec(...)``'s do.
        The fields named in ``checked`` hold what :func:`validate_field` gave
        for them (the schedules file reader checks each value as it reads it),
        so are not checked again; the others, and the rules between fields, are.
        """
        name = checked_field("", "name", values.get("name"))
        policy = {key: values.pop(key) for key in POLICY_FIELDS if key in values}
        try:
            made = JobPolicy(**policy) if policy else DEFAULT_POLICY
        except InvalidJob as error:
            raise InvalidJob(f"job {name!r}: {error}") from None
        # Equal policies encode alike (fields are normalised), and sharing the
        # default one lets a definition hash reuse its encoded fields.
        values["policy"] = DEFAULT_POLICY if made == DEFAULT_POLICY else made
        if not checked:
            return cls(**values)
        spec = object.__new__(cls)
        for field_name, assign in _SETTERS:  # a default is good as it is
            if field_name not in values:
                assign(spec, _DEFAULTS[field_name]())
            elif field_name in checked or field_name == "policy":
                assign(spec, values[field_name])
            else:
                assign(spec, checked_field(name, field_name, values[field_name]))
        check_together(spec)
        return spec

    def with_fields(self, **changes: Any) -> JobSpec:
        """A copy with ``changes``, the policy fields flat (``spec.with_fields(retries=3)``),
        validated again as :meth:`from_fields` validates."""
        values = {name: self._flat(name) for name in FIELD_NAMES}
        return JobSpec.from_fields(**{**values, **changes})

    def next_after(self, instant: datetime) -> datetime | None:
        """The first due instant strictly after ``instant`` inside the start/end window.

        Aware UTC, never before ``start``, ``None`` once past ``end``.  The
        ``enabled`` flag is not consulted: pausing is the engine's business.
        """
        after = ensure_aware_utc(instant)
        if self.start is not None and after < self.start:
            after = self.start - _MICROSECOND
        if self.calendar.is_default:
            due = self.schedule.next_after(after)
        else:
            due = next_allowed_after(self.schedule, self.calendar, self.timezone, after)
        if due is None or (self.end is not None and due > self.end):
            return None
        return due

    def describe(self) -> str:
        """The schedule in words, such as ``every 15m``, with its calendar if it has
        one; a one-off instant is shown on the job's own clock, like its next runs."""
        chain = after_text(self.after, self.when) if self.after else ""
        if is_chain_only(self.schedule):
            return chain
        if isinstance(self.schedule, Once):
            text = self.schedule.describe(self.timezone)
            return f"{text}, and {chain}" if chain else text
        calendar = self.calendar.describe()
        text = self.schedule.describe()
        text = f"{text}, {calendar}" if calendar else text
        return f"{text}, and {chain}" if chain else text

    def definition_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of every field.

        Equal specs give equal hashes, in any process and on any Python
        version: keys are sorted, text is ASCII-escaped and floats use their
        shortest round-trip form.  Computed once per spec (a spec is a value:
        its ``kwargs`` and ``args`` are not to be changed in place).
        """
        try:
            return self._definition_hash
        except AttributeError:  # not computed yet
            pass
        known = definition_hash(self)
        object.__setattr__(self, "_definition_hash", known)
        return known

    def to_dict(self, *, copy: bool = True) -> dict[str, JSONValue]:
        """Every field as JSON-safe values; :meth:`from_dict` reads it back.

        Instants are ISO-8601 strings in UTC, durations are seconds, policies
        their string values and the schedule one of ``{"cron": ..., "hash_key":
        ...}``, ``{"every": seconds, "anchor": ...}`` or ``{"at": ...}``.
        ``notify``, ``max_memory``, ``calendar``, ``after`` and ``when`` are
        left out while they are the default, so
        the definition hash of a job that never set them is the one it had
        before the fields existed.  ``copy=False`` shares the spec's own
        ``args`` and ``kwargs``, for a caller that only reads them.
        """
        encoded = hashed_fields(self)  # what the definition hash encodes, in any order
        if copy:  # so callers cannot reach into the spec
            encoded["args"] = encode_field(self.args)
            encoded["kwargs"] = encode_field(self.kwargs)
        return {name: encoded[name] for name in FIELD_NAMES if name in encoded}

    def _flat(self, name: str) -> object:
        return getattr(self.policy if name in POLICY_FIELDS else self, name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobSpec:
        """The spec that :meth:`to_dict` wrote; raises
        :class:`~scheduler.errors.InvalidJob` for anything else."""
        unknown = sorted(set(data) - set(FIELD_NAMES))
        missing = sorted({"name", "task", "schedule"} - set(data))
        if unknown:
            raise InvalidJob(f"job data: unknown fields {', '.join(map(repr, unknown))}")
        if missing:
            raise InvalidJob(f"job data: missing fields {', '.join(map(repr, missing))}")
        name = data["name"]
        values = {key: decode_field(name, key, value) for key, value in data.items()}
        timezone = values.get("timezone", "UTC")
        values["schedule"] = decode_schedule(name, data["schedule"], timezone)
        return cls.from_fields(**values)


# The fields a spec checks itself; its policy checks its own.
_OWN_FIELDS = tuple(f.name for f in fields(JobSpec) if f.name != "policy")
# The slots' own setters: what a frozen dataclass's __init__ calls, minus the checks.
_SETTERS = tuple((name, getattr(JobSpec, name).__set__) for name in (*_OWN_FIELDS, "policy"))
_DEFAULTS = field_defaults(JobSpec)
# Each field's one-value default (else MISSING): a normal form, so needing no check.
_CONSTANT_DEFAULTS = {f.name: f.default for f in fields(JobSpec)}
_POLICY_SETTERS = tuple((name, getattr(JobPolicy, name).__set__) for name in POLICY_FIELDS)


def _policy_shortcut(name: str) -> property:
    def read(spec: JobSpec) -> object:
        warnings.warn(
            f"JobSpec.{name} is JobSpec.policy.{name} now; read it there "
            "(the shortcut goes away in 0.3)",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(spec.policy, name)

    return property(read, doc=f"Deprecated: ``policy.{name}``.")


# Reading a policy field off the spec, as before 0.1, still works, with a warning
# (not for the fields added since, which were never read that way).
for _name in (name for name in POLICY_FIELDS if name != "max_memory"):
    setattr(JobSpec, _name, _policy_shortcut(_name))


def trusted_spec(
    *,
    name: str,
    task: str,
    schedule: ScheduleType,
    args: tuple[JSONValue, ...],
    kwargs: dict[str, JSONValue],
    timezone: str,
    enabled: bool,
    start: datetime | None,
    end: datetime | None,
    catchup: CatchupPolicy,
    max_catchup: int,
    catchup_window: timedelta | None,
    overlap: OverlapPolicy,
    jitter: timedelta,
    timeout: timedelta | None,
    retries: int,
    retry_backoff: timedelta,
    retry_backoff_max: timedelta,
    executor: str,
    queue: str | None,
    description: str,
    source: JobSource,
    notify: JobNotify = _DEFAULT_NOTIFY,
    max_memory: int | None = None,
    calendar: Calendar = _NO_CALENDAR,
    after: tuple[str, ...] = (),
    when: ChainWhen = ChainWhen.SUCCEEDED,
) -> JobSpec:
    """A :class:`JobSpec` of values that are already valid and normal, not checked again.

    For a store reading back a row it wrote from a validated spec, and for
    nothing else: checking all 22 fields again costs more than the rest of
    reading the row, and a wake-up may read 10,000 of them.  ``notify`` must be
    a :class:`~scheduler.model.notify.JobNotify` (which validated itself).  Every value must
    be what ``JobSpec(...)`` would have kept (an args tuple, instants in UTC,
    policies as enum members, a :class:`~scheduler.schedules.Cron` read in
    ``timezone``); the spec is then equal to the validated one.
    """
    values = locals()
    policy = object.__new__(JobPolicy)
    for field_name, assign in _POLICY_SETTERS:
        assign(policy, values[field_name])
    values["policy"] = policy
    spec = object.__new__(JobSpec)
    for field_name, assign in _SETTERS:
        assign(spec, values[field_name])
    return spec


def trusted_copy(spec: JobSpec, **changes: Any) -> JobSpec:
    """``spec`` with ``changes`` to its own fields (not its policy's), not checked again.

    For a store reading back thousands of jobs that differ from one already
    built only in their name (and so their cron's ``H`` key) and their JSON
    arguments: the same contract as :func:`trusted_spec`, every value already
    what ``JobSpec(...)`` would keep.
    """
    copy = object.__new__(JobSpec)
    for field_name, assign in _SETTERS:
        assign(copy, changes[field_name] if field_name in changes else getattr(spec, field_name))
    return copy


def _schedule(
    name: str,
    timezone: str,
    start: datetime | None,
    cron: str | None,
    every: str | float | timedelta | None,
    at: datetime | None,
    solar: Any,
) -> ScheduleType:
    if cron is not None:
        return Cron(cron, tz=timezone, hash_key=name)
    if every is not None:
        return Every(parse_duration(every), anchor=start)
    if solar is not None:
        return Solar.parse(solar)
    assert at is not None  # noqa: S101 - build() checked that one of the three is set
    return Once(at)
