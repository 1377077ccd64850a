"""Jobs from other schedulers, written as a ``schedules.yaml`` to review and check in.

:mod:`.document` holds what every importer shares: a :class:`~.document.Translation`
per foreign job, checked by the schedules-file reader itself, and the file they
make; :mod:`.merge` adds them to an existing file without touching what is
there.  :mod:`.apscheduler` translates APScheduler 3 jobs, read from its
SQLAlchemy job store by :mod:`.apscheduler_store`.  The foreign packages are
imported only inside the functions that need them: none is a dependency.
"""
