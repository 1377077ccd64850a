"""Stores: where jobs and runs live (memory, SQLAlchemy, Django).

* :mod:`.base`: the :class:`~scheduler.stores.base.Store` protocol, in the
  four parts of :mod:`.protocol` (jobs, the run queue, replicas, history);
* :mod:`.checked`: the class every store is built on, which checks each
  verb's arguments once, then calls the store's own work;
* :mod:`.rules`: the rules a store's work applies to what it holds;
* :mod:`.memory`: the in-memory store;
* :mod:`.rows`: rows <-> values for the SQL stores, shared with the Django store;
* :mod:`.sqlalchemy`: the SQL store on SQLAlchemy Core;
* :mod:`.pglisten`: PostgreSQL's LISTEN, shared by both SQL stores.

The Django store is the Django app's, :mod:`scheduler.django.store`.
"""
