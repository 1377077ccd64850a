"""The rules between a job's fields, which no field's own check can see, and
its fields' defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import TYPE_CHECKING, Any

from ..errors import InvalidJob
from ..schedules.kinds import Cron, Once
from .chains import is_chain_only
from .job_policy import JobPolicy

if TYPE_CHECKING:
    from .jobs import JobSpec

__all__ = ["check_together", "field_defaults"]


def check_together(spec: JobSpec) -> None:
    """:class:`InvalidJob` naming the job if its fields, each good on its own,
    do not go together (a window that ends before it starts, a cron read in
    another zone than the job's, a job that runs after itself, ...)."""
    if not isinstance(spec.policy, JobPolicy):
        raise InvalidJob(f"job {spec.name!r}: policy: expected a JobPolicy, got {spec.policy!r}")
    if spec.start is not None and spec.end is not None and spec.start >= spec.end:
        raise InvalidJob(
            f"job {spec.name!r}: start must be before end, got start "
            f"{spec.start.isoformat()} and end {spec.end.isoformat()}"
        )
    if isinstance(spec.schedule, Cron) and spec.schedule.tz != spec.timezone:
        raise InvalidJob(
            f"job {spec.name!r}: schedule: the cron expression is read in "
            f"{spec.schedule.tz!r} but the job's timezone is {spec.timezone!r}; "
            "build it with Cron(expr, tz=timezone) or JobSpec.build()"
        )
    if spec.name in spec.after:
        raise InvalidJob(f"job {spec.name!r}: after: a job cannot run after itself")
    if is_chain_only(spec.schedule) and not spec.after:
        raise InvalidJob(
            f"job {spec.name!r}: give exactly one of cron, every, at or solar, "
            "or 'after' for a job that runs only after another"
        )
    if isinstance(spec.schedule, Once) and not spec.calendar.is_default:
        raise InvalidJob(
            f"job {spec.name!r}: calendar: a one-off job ('at') runs at its instant; "
            "a calendar applies to cron and interval jobs only"
        )


def field_defaults(cls: type[Any]) -> dict[str, Callable[[], Any]]:
    """For each field of the dataclass ``cls`` that has a default, what makes it."""
    made: dict[str, Callable[[], Any]] = {}
    for spec_field in fields(cls):
        if spec_field.default is not MISSING:
            made[spec_field.name] = _constant(spec_field.default)
        elif spec_field.default_factory is not MISSING:
            made[spec_field.name] = spec_field.default_factory
    return made


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value
