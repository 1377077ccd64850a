"""Tickwork's Django app: add ``"scheduler.django"`` to ``INSTALLED_APPS`` (label ``scheduler``).

The app keeps jobs, runs and replica heartbeats in the tables the standalone
SQLAlchemy store uses (``scheduler_job``, ``scheduler_run``,
``scheduler_replica``), so ``tickwork run`` and a Django site can share one
database.  :class:`~scheduler.django.store.DjangoStore` is the store on the
Django ORM; ``manage.py run_scheduler`` runs the scheduler on it.
"""
