"""Seeing the scheduler from outside: run events and the hooks they reach.

* :mod:`.events`: :class:`~.events.RunEvent`, one run's start or end as
  recorded;
* :mod:`.hooks`: :class:`~.hooks.RunHooks`, where callables register for
  those events (``on_run_started``, ``on_run_finished``, ``on_run_failed``).

Metrics, health, notifiers and Sentry Crons are built on these.  Nothing here
imports an optional dependency; the modules that need one import it themselves.
"""
