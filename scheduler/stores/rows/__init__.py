"""Stored rows <-> values, shared by the SQL stores.

A ``scheduler_job`` or ``scheduler_run`` row is a plain mapping of column
names to Python values (instants aware in UTC, JSON as text).  The SQLAlchemy
store and the Django store both read and write rows through these functions,
so the two can share one database.  Nothing here imports a database library.

* :mod:`.constraints`: the slot constraint and the active-run index, by name;
* :mod:`.jobs`: job rows, and the spec and job a row holds; a join's upstream rows;
* :mod:`.runs`: run rows: a new run's, a claim's, an outcome's, and the run a row holds;
* :mod:`.sync`: sorting a sync's specs against the stored rows, and its report.

The rules every store applies to what it holds, the memory store too, are
:mod:`scheduler.stores.rules`.
"""

from .constraints import (
    ACTIVE_RUN_CONDITION,
    ACTIVE_RUN_INDEX,
    CHAIN_JOB_INDEX,
    CHAIN_RUN_INDEX,
    JOB_UPSTREAM_INDEX,
    JOB_UPSTREAM_TABLE,
    JOB_UPSTREAM_UNIQUE,
    SLOT_CONSTRAINT,
    UPSTREAM_RUN_INDEX,
    WINDOW_RUN_INDEX,
    is_slot_violation,
    is_upstream_violation,
    slot_conflict,
)
from .jobs import (
    as_stored,
    job_columns,
    job_from_columns,
    spec_from_columns,
    upstream_rows,
)
from .runs import (
    NEW_RUN_BLANKS,
    claim_rows,
    outcome_columns,
    result_column,
    run_columns,
    run_from_columns,
    status_values,
)
from .sync import (
    SYNC_BATCH,
    SyncSteps,
    SyncTally,
    batched,
    batches,
    compare_specs,
    redefined,
    sync_batches,
)

__all__ = [
    "ACTIVE_RUN_CONDITION",
    "ACTIVE_RUN_INDEX",
    "CHAIN_JOB_INDEX",
    "CHAIN_RUN_INDEX",
    "JOB_UPSTREAM_INDEX",
    "JOB_UPSTREAM_TABLE",
    "JOB_UPSTREAM_UNIQUE",
    "NEW_RUN_BLANKS",
    "SLOT_CONSTRAINT",
    "SYNC_BATCH",
    "UPSTREAM_RUN_INDEX",
    "WINDOW_RUN_INDEX",
    "SyncSteps",
    "SyncTally",
    "as_stored",
    "batched",
    "batches",
    "claim_rows",
    "compare_specs",
    "is_slot_violation",
    "is_upstream_violation",
    "job_columns",
    "job_from_columns",
    "outcome_columns",
    "redefined",
    "result_column",
    "run_columns",
    "run_from_columns",
    "slot_conflict",
    "spec_from_columns",
    "status_values",
    "sync_batches",
    "upstream_rows",
]
