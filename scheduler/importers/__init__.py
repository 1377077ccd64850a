"""Jobs from other schedulers, written as a ``schedules.yaml`` to review and check in.

:mod:`.document` holds what every importer shares: a :class:`~.document.Translation`
per foreign job, checked by the schedules-file reader itself, and the file they
make; :mod:`.merge` adds them to an existing file without touching what is
there.  :mod:`.apscheduler` translates APScheduler 3 jobs (their cron fields in
:mod:`.apscheduler_cron`), read from its SQLAlchemy job store by
:mod:`.apscheduler_store`; :mod:`.celery_setting` a Celery beat schedule
setting, with :mod:`.celery` reading Celery's schedules for it and for the
django-celery-beat importer; :mod:`.background_tasks` django-background-tasks'
waiting tasks.  :mod:`.days` keeps the meaning of schedulers that AND day of
month with day of week.  The foreign packages are imported only inside the
functions that need them: none is a dependency.
"""
