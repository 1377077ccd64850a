"""What may run, and running it later.

:mod:`.registry` is the security boundary: only registered or allow-listed
callables can be named by a job.  :mod:`.defer` writes a one-off job for a
registered task (``send_reminder.defer(run_at=...)``).
"""
