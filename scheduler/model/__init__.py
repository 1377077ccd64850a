"""What a job and a run are: values, validated when built, with no behaviour of storage.

:mod:`.jobs` (:class:`~scheduler.model.jobs.JobSpec`), :mod:`.runs` (runs,
statuses, outcomes, run context), :mod:`.policies` (catch-up, overlap, jitter,
retry backoff) and :mod:`.enums` (documented string enums).
"""
