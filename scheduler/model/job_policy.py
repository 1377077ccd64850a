"""What one job does when time does not go to plan, as one value: :class:`JobPolicy`.

Catch-up after missed slots, overlap with a run still going, jitter, the
timeout, and retries with their back-off.  The rules themselves are the pure
functions of :mod:`scheduler.model.policies`; this is the setting of each for
one job, validated when built like every field of a job.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta

from ..errors import InvalidJob
from .fields import validate_field
from .policies import CatchupPolicy, OverlapPolicy

__all__ = ["DEFAULT_POLICY", "POLICY_FIELDS", "JobPolicy"]


@dataclass(frozen=True, slots=True, kw_only=True)
class JobPolicy:
    """A job's policies.  Every field is checked when built, as the YAML keys of the same
    names are: :class:`~scheduler.errors.InvalidJob` names the field and the bad value.

    ``catchup``, ``max_catchup`` and ``catchup_window`` say which missed slots
    fire (:class:`~scheduler.model.policies.CatchupPolicy`); ``overlap`` what
    to do while the previous run is still going; ``jitter`` how far a slot may
    be spread after its time; ``timeout`` how long a run may take;
    ``max_memory`` how much memory (bytes of address space) a run may use,
    where the executor can limit it (the process executor);
    ``retries`` how many more attempts a failed run gets, waiting
    ``retry_backoff`` doubled each time, at most ``retry_backoff_max``.
    """

    catchup: CatchupPolicy = CatchupPolicy.ONCE
    max_catchup: int = 100
    catchup_window: timedelta | None = None
    overlap: OverlapPolicy = OverlapPolicy.SKIP
    jitter: timedelta = timedelta(0)
    timeout: timedelta | None = None
    max_memory: int | None = None
    retries: int = 0
    retry_backoff: timedelta = timedelta(seconds=10)
    retry_backoff_max: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        for name in POLICY_FIELDS:
            value = getattr(self, name)
            if value is _CONSTANT_DEFAULTS[name]:  # a default is good as it is
                continue
            try:
                value = validate_field(name, value)
            except InvalidJob as error:
                raise InvalidJob(f"{name}: {error}") from None
            object.__setattr__(self, name, value)


#: The names of a job's policy fields: keys of the YAML file and of
#: :meth:`~scheduler.model.jobs.JobSpec.to_dict` as much as fields of :class:`JobPolicy`.
POLICY_FIELDS = tuple(policy_field.name for policy_field in fields(JobPolicy))
#: Each field's default (all are single values): a normal form already, so a
#: field holding that very object needs no check.
_CONSTANT_DEFAULTS = {policy_field.name: policy_field.default for policy_field in fields(JobPolicy)}
#: The policy of every job that sets none of its own: one shared value.
DEFAULT_POLICY = JobPolicy()
