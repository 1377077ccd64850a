"""Plain-text tables for the command line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from ..model.chains import ChainWhen, is_chain_only
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
    if job.after:
        return runs + _followed(job, after, count, named)
    return runs or ["(no more runs)"]


def _scheduled(job: JobSpec, after: datetime, count: int) -> list[str]:
    zone = ZoneInfo(job.timezone)
    runs: list[str] = []
    current: datetime | None = after
    while current is not None and len(runs) < count:
        current = job.next_after(current)
        if current is not None:
            runs.append(current.astimezone(zone).isoformat(timespec="seconds"))
    return runs


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


def next_run_text(job: StoredJob) -> str:
    """The job's next run in its own zone, or ``-`` when it has none."""
    if job.next_run_at is None:
        return "-"
    return job.next_run_at.astimezone(ZoneInfo(job.spec.timezone)).isoformat(timespec="seconds")
