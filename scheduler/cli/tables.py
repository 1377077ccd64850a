"""Plain-text tables for the command line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from ..model.chains import ChainWhen, is_chain_only, is_join, listed
from ..model.jobs import JobSpec
from ..stores.base import StoredJob

__all__ = ["jobs_table", "next_run_text", "render_table"]


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; a rule under the header."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [_line(header, widths), _line(["-" * w for w in widths], widths)]
    lines += [_line(row, widths) for row in rows]
    return "\n".join(lines)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def jobs_table(jobs: Sequence[JobSpec], after: datetime, count: int) -> str:
    """One row per job (extra lines for further runs): name, task, schedule,
    its description, and the next ``count`` runs in the job's own zone (for a
    chained job, the upstream runs it would follow)."""
    rows: list[list[str]] = []
    named = {job.name: job for job in jobs}
    for job in sorted(jobs, key=lambda j: j.name):
        runs = _next_runs(job, after, count, named)
        first = [job.name, job.task, _schedule_text(job), job.describe(), runs[0]]
        rows.append(first)
        rows.extend(["", "", "", "", run] for run in runs[1:])
    return render_table(["JOB", "TASK", "SCHEDULE", "DESCRIPTION", "NEXT RUNS"], rows)


def _schedule_text(job: JobSpec) -> str:
    expr = getattr(job.schedule, "expr", None)
    return str(expr) if expr is not None else job.describe()


def _next_runs(
    job: JobSpec, after: datetime, count: int, named: Mapping[str, JobSpec]
) -> list[str]:
    if not job.enabled:
        return ["(disabled)"]
    runs = _scheduled(job, after, count)
    if is_join(job.after):
        return runs + _joined(job, after, count, named)
    if job.after:
        return runs + _followed(job, after, count, named)
    return runs or ["(no more runs)"]


def _scheduled(job: JobSpec, after: datetime, count: int) -> list[str]:
    zone = ZoneInfo(job.timezone)
    return [
        slot.astimezone(zone).isoformat(timespec="seconds") for slot in _slots(job, after, count)
    ]


def _slots(job: JobSpec, after: datetime, count: int) -> list[datetime]:
    slots: list[datetime] = []
    current: datetime | None = after
    while current is not None and len(slots) < count:
        current = job.next_after(current)
        if current is not None:
            slots.append(current)
    return slots


def _followed(job: JobSpec, after: datetime, count: int, named: Mapping[str, JobSpec]) -> list[str]:
    """The upstream's next runs that this job would follow, said as such."""
    name = job.after[0]
    condition = _IF[job.when]
    upstream = named.get(name)
    if upstream is None or not upstream.enabled:
        return [f"after each run of {name} that {condition}"]
    found = _scheduled(upstream, after, count)
    if not found and is_chain_only(upstream.schedule):  # a chain after a chain
        return [f"after each run of {name} that {condition}"]
    if not found:
        return [f"after each run of {name} that {condition} (it has no more runs)"]
    return [f"after {name} {run}, if it {condition}" for run in found]


_IF = {ChainWhen.SUCCEEDED: "succeeds", ChainWhen.FAILED: "fails", ChainWhen.FINISHED: "ends"}
_IF_ALL = {ChainWhen.SUCCEEDED: "succeed", ChainWhen.FAILED: "fail", ChainWhen.FINISHED: "end"}
#: How many runs of each other upstream a join's table looks through for the
#: slots of the first one (an every-second job would have thousands a day).
_JOIN_LOOKAHEAD = 1000


def _joined(job: JobSpec, after: datetime, count: int, named: Mapping[str, JobSpec]) -> list[str]:
    """The slots every upstream of the join ``job`` has among its next runs, which
    this job would follow once all of them end as its ``when`` asks."""
    names = listed(job.after)
    each = "both" if len(job.after) == 2 else "all"
    condition = f"{each} {_IF_ALL[job.when]}"
    generic = f"after {names}, once {condition} for one slot"
    upstreams = [named.get(name) for name in job.after]
    if any(up is None or not up.enabled or is_chain_only(up.schedule) for up in upstreams):
        return [generic]
    first, *others = [up for up in upstreams if up is not None]
    candidates = _slots(first, after, count)
    if not candidates:
        return [f"{generic} ({first.name} has no more runs)"]
    common = set(candidates)
    for other in others:
        theirs = set(_slots(other, after, _JOIN_LOOKAHEAD))
        common &= theirs
    if not common:
        return [f"{generic} (they share none of {first.name}'s next {len(candidates)} slots)"]
    zone = ZoneInfo(first.timezone)  # as the upstream's own runs are shown
    return [
        f"after {names} {slot.astimezone(zone).isoformat(timespec='seconds')}, if {condition}"
        for slot in sorted(common)
    ]


def next_run_text(job: StoredJob) -> str:
    """The job's next run in its own zone, or ``-`` when it has none."""
    if job.next_run_at is None:
        return "-"
    return job.next_run_at.astimezone(ZoneInfo(job.spec.timezone)).isoformat(timespec="seconds")
