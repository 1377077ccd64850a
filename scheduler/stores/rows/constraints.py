"""What the SQL schema guarantees, named once: the slot constraint and the active-run index.

Both SQL stores and the Django migrations use these names; the checking
layer reads a driver's unique violation through :func:`slot_conflict`.
"""

from __future__ import annotations

from ...model.runs import ACTIVE_STATUSES
from ..rules import DUPLICATE_SLOT

__all__ = [
    "ACTIVE_RUN_CONDITION",
    "ACTIVE_RUN_INDEX",
    "CHAIN_JOB_INDEX",
    "CHAIN_RUN_INDEX",
    "JOB_UPSTREAM_INDEX",
    "JOB_UPSTREAM_TABLE",
    "JOB_UPSTREAM_UNIQUE",
    "SLOT_CONSTRAINT",
    "UPSTREAM_RUN_INDEX",
    "WINDOW_RUN_INDEX",
    "is_slot_violation",
    "is_upstream_violation",
    "slot_conflict",
]

#: Name of the constraint that makes a second run of one slot and attempt impossible.
SLOT_CONSTRAINT = "scheduler_run_slot_uniq"
#: Name of the unique index that gives a job one run per upstream run (chains).
UPSTREAM_RUN_INDEX = "scheduler_run_upstream_uniq"
#: Name of the index of runs by job, then when their end was passed to the chains.
CHAIN_RUN_INDEX = "scheduler_run_chain_idx"
#: Name of the index of jobs by the upstream job they run after.
CHAIN_JOB_INDEX = "scheduler_job_chain_idx"
#: The table of a join's upstream jobs (a job after two or more), one row per
#: upstream: what the wake-up's query reads to find ends of any of them.
JOB_UPSTREAM_TABLE = "scheduler_job_upstream"
#: Name of its unique constraint: a job names an upstream once.
JOB_UPSTREAM_UNIQUE = "scheduler_job_upstream_uniq"
#: Name of its index by upstream job name.
JOB_UPSTREAM_INDEX = "scheduler_job_upstream_idx"
#: Name of the partial index of the runs that have not ended, by job.
ACTIVE_RUN_INDEX = "scheduler_run_active_idx"
#: Name of the index of runs by slot, then job and status: the admin dashboard
#: reads a window of slots from it (counts per status, per job) without the table.
WINDOW_RUN_INDEX = "scheduler_run_window_idx"
#: The active-run index's condition, and the one a query repeats, word for word and as
#: literals (never bound parameters), for the database to choose the index:
#: "has this job a run going" is then one probe of a small index, whatever
#: the size of the job's history or the number of runs in flight.
ACTIVE_RUN_CONDITION = "status IN ({})".format(
    ", ".join(f"'{status.value}'" for status in sorted(ACTIVE_STATUSES, key=lambda s: s.value))
)

# How PostgreSQL's detail of a unique violation names the slot constraint's columns.
_SLOT_KEY_DETAIL = "(job_id, scheduled_for, attempt)="
# How SQLite's message names them.
_SLOT_COLUMNS_SQLITE = "scheduler_run.job_id, scheduler_run.scheduled_for, scheduler_run.attempt"
# MariaDB's and MySQL's error number for a duplicate key; their message names the
# key, "for key 'scheduler_run_slot_uniq'" (MySQL 8: 'scheduler_run.scheduler_run_slot_uniq').
_MYSQL_DUPLICATE_KEY = 1062


def is_slot_violation(driver_error: BaseException | None) -> bool:
    """Whether the database driver's ``driver_error`` (psycopg's, sqlite3's,
    PyMySQL's or mysqlclient's, under a library's IntegrityError) is the slot
    constraint refusing a second run of one slot and attempt."""
    diag = getattr(driver_error, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint is not None:  # psycopg names it
        # On a run table partitioned by month (contrib/postgres/partition_runs.sql)
        # the name is that of the partition's copy of the constraint; the detail
        # names the columns, whatever the partition: "Key (job_id, ...)=(...) ...".
        detail = getattr(diag, "message_detail", None) or ""
        return bool(constraint == SLOT_CONSTRAINT or _SLOT_KEY_DETAIL in detail)
    args = getattr(driver_error, "args", ())
    if args and args[0] == _MYSQL_DUPLICATE_KEY:
        return f"{SLOT_CONSTRAINT}'" in str(args[-1])
    # sqlite3 names the columns instead: "UNIQUE constraint failed: scheduler_run.job_id, ..."
    return _SLOT_COLUMNS_SQLITE in str(driver_error)


# How PostgreSQL's detail names the upstream run index's columns (it has
# scheduled_for too on a partitioned run table).
_UPSTREAM_KEY_DETAIL = "(job_id, upstream_run_id"
# How SQLite's message names the upstream run index's columns.
_UPSTREAM_COLUMNS_SQLITE = "scheduler_run.job_id, scheduler_run.upstream_run_id"


def is_upstream_violation(driver_error: BaseException | None) -> bool:
    """Whether ``driver_error`` is the unique index on ``(job_id, upstream_run_id)``
    refusing a second chained run of one job for one upstream run."""
    diag = getattr(driver_error, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint is not None:  # on a partitioned table, the partition's copy: see the detail
        detail = getattr(diag, "message_detail", None) or ""
        return bool(constraint == UPSTREAM_RUN_INDEX or _UPSTREAM_KEY_DETAIL in detail)
    args = getattr(driver_error, "args", ())
    if args and args[0] == _MYSQL_DUPLICATE_KEY:
        return f"{UPSTREAM_RUN_INDEX}'" in str(args[-1])
    return _UPSTREAM_COLUMNS_SQLITE in str(driver_error)


def slot_conflict(driver_error: BaseException | None) -> str | None:
    """What to say of ``driver_error`` if it is the slot constraint's refusal
    (with the database's detail when it gives one), or the upstream run
    index's; ``None`` if it is neither."""
    if driver_error is not None and is_upstream_violation(driver_error):
        return "the job already has a run after this upstream run"
    if driver_error is None or not is_slot_violation(driver_error):
        return None
    detail = getattr(getattr(driver_error, "diag", None), "message_detail", None)
    return f"{DUPLICATE_SLOT} ({detail})" if detail else DUPLICATE_SLOT
