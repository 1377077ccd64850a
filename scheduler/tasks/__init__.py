"""What may run, and running it later.

:mod:`.registry` is the security boundary: only registered or allow-listed
callables can be named by a job.  :mod:`.defer` writes a one-off job for a
registered task (``send_reminder.defer(run_at=...)``) and is where the
deferral API is imported from; it is built from :mod:`.keywords` (the one
list of keywords a deferral takes), :mod:`.oneoff` (checking them and
building the one-off job), :mod:`.deferrer` (writing it into a store) and
:mod:`.cancellation` (what cancelling it did).
"""
