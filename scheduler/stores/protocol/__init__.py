"""The store protocol in parts, one per concern; :mod:`scheduler.stores.base` joins them.

* :mod:`.values`: what the verbs take and give (:class:`~.values.StoredJob`,
  plans, reports, the planner and retrier callables);
* :mod:`.batches`: the starts and ends of many runs, recorded together;
* :mod:`.jobs`: :class:`~.jobs.JobStore`, the job definitions;
* :mod:`.queue`: :class:`~.queue.RunQueue`, claiming runs and recording their life;
* :mod:`.replicas`: :class:`~.replicas.ReplicaStore`, heartbeats and recovery;
* :mod:`.history`: :class:`~.history.RunHistory`, reading and pruning runs;
* :mod:`.changes`: the optional :class:`~.changes.NotifiesChanges`.

Import these names from :mod:`scheduler.stores.base`, where they are documented.
"""
