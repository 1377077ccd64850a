"""What runs inside a worker outside the scheduler (Celery, django.tasks).

A distributed executor hands over only a run id; the worker then loads the run,
executes its task and records the outcome itself (:mod:`.run`), beating the
run's heartbeat while it works (:mod:`.heartbeats`), on a store found as
:mod:`.store` describes.  :mod:`.celery` installs this into a Celery app; the
django.tasks half is the Django app's ``scheduler.django.tasks``.
"""
