"""The Django :class:`~scheduler.stores.base.Store`: the ORM, on one of the site's databases.

It keeps the promises of the SQLAlchemy store, on the same tables:

* a claim is one transaction and a fixed number of statements whatever the
  number of due jobs (``bulk_create`` for the runs, ``bulk_update`` for the
  jobs' next slots), never a statement per job;
* on PostgreSQL due jobs are selected ``FOR NO KEY UPDATE SKIP LOCKED`` (on
  MariaDB and MySQL ``FOR UPDATE SKIP LOCKED``), so replicas split the due
  set instead of waiting for each other; on SQLite the
  first statement of every write transaction takes the database's write lock,
  so a second claimer waits and then sees the advanced ``next_run_at``;
* the unique constraint on ``(job, scheduled_for, attempt)`` is the final
  guard: a second run of a slot raises :class:`~scheduler.errors.DuplicateRun`;
* a database that cannot be reached raises
  :class:`~scheduler.errors.StoreUnavailable` (the engine backs off and
  retries), and the broken connection is closed so the next call reconnects;
* nothing is cached: every call reads the rows, so an edit committed anywhere
  (admin, another replica, ``tickwork``) is seen by the next wake-up.

Each thread uses its own Django connection, as Django does, and the store is
safe to share between threads; :meth:`DjangoStore.dispose` closes the
connections it used in every thread (an executor's workers too) when the
scheduler stops.  Use a file or a server database: an in-memory SQLite database
is a different database in every thread.

The modules:

* :mod:`.store`: :class:`DjangoStore`, the transaction each verb runs in;
* :mod:`.connections`: transactions, unreachable databases, closing connections;
* :mod:`.queries`: the querysets, columns and statuses every query uses;
* :mod:`.jobs`: job rows, reconciling, saving and pausing them;
* :mod:`.claims`: the due-queue, claiming and inserting runs in batches;
* :mod:`.runs`: recording a run's life;
* :mod:`.history`: reading runs back, pruning them;
* :mod:`.replicas`: heartbeats, recovery of dead replicas' runs, forgetting replicas;
* :mod:`.changes`: NOTIFY on writes and the listener that wakes an engine (PostgreSQL);
* :mod:`.servers`: what a MariaDB or MySQL server must offer, checked at start.
"""

from .store import DjangoStore

__all__ = ["DjangoStore"]
