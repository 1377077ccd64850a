"""The SQL :class:`~scheduler.stores.base.Store`: SQLAlchemy Core on PostgreSQL or SQLite.

Several replicas may share one database.  What keeps a slot from firing twice
is the unique constraint on ``(job, scheduled_for, attempt)``; what keeps the
replicas from tripping over each other is the claim transaction (see
:mod:`.claims`).  The modules:

* :mod:`.store`: :class:`SQLAlchemyStore`, its schema, and the transaction each verb runs in;
* :mod:`.connections`: engines for a URL, SQLite's connection hooks, transactions;
* :mod:`.specs`: the cache of specs built from job rows;
* :mod:`.jobs`: job rows: reconciling, saving, reading and pausing them;
* :mod:`.claims`: the due-queue, claiming and inserting runs in batches;
* :mod:`.runs`: run rows, recording their life;
* :mod:`.history`: reading runs back, pruning them;
* :mod:`.worker_runs`: runs executed by workers outside the scheduler;
* :mod:`.bulk`: a claim's writes, in a fixed number of statements;
* :mod:`.replicas`: heartbeats, recovery of dead replicas' runs, forgetting replicas;
* :mod:`.upgrade`: bringing a database made by an earlier version up to date;
* :mod:`.changes`: NOTIFY on writes and the listener that wakes an engine (PostgreSQL);
* :mod:`.queries`: helpers every query uses.

The tables themselves are in :mod:`scheduler.stores.sqlalchemy.schema`, shared with the
Django app's migrations.
"""

from .store import SQLAlchemyStore

__all__ = ["SQLAlchemyStore"]
