"""Specs built from job rows, cached: building one costs tens of microseconds.

Rows become :class:`~scheduler.model.jobs.JobSpec` values column by column (no
``from_dict``), and the specs are cached by ``(job id, version)``, so a claim
of 10,000 due jobs a second does not build them again and again.  Jobs seen
for the first time that share a definition but for their name (a herd of
copies of one job: one task, one cron) are built from the first one's spec
(:func:`~scheduler.stores.rows.jobs.renamed_spec`), sharing its parsed
schedule and policy, at a fraction of the cost.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from operator import itemgetter
from typing import Any

from sqlalchemy import RowMapping

from ...model.jobs import JobSpec
from ..protocol.values import StoredJob
from ..rows import job_from_columns, spec_from_columns
from ..rows.jobs import SHARED_DEFINITION, renamed_spec

__all__ = ["DEFAULT_SPEC_CACHE_SIZE", "TEMPLATES", "SpecCache"]

#: Specs kept built, by (job id, version); a miss costs one JobSpec construction.
DEFAULT_SPEC_CACHE_SIZE = 20_000
#: Definitions kept as templates for the jobs that share them but for the name.
TEMPLATES = 1_000


_shared = itemgetter(*SHARED_DEFINITION)


class SpecCache:
    """Built specs by (job id, version), least recently used out first.

    The stored definition hash is checked too, so a row rewritten without a
    version bump (by hand, by another tool) is never served stale.
    """

    def __init__(self, size: int) -> None:
        self._size = max(size, 0)
        self._lock = threading.Lock()
        self._specs: OrderedDict[tuple[int, int], tuple[str, JobSpec]] = OrderedDict()
        self._templates: OrderedDict[tuple[Any, ...], JobSpec] = OrderedDict()

    def get(self, row: RowMapping) -> JobSpec:
        key = (row["id"], row["version"])
        with self._lock:
            cached = self._specs.get(key)
            if cached is not None and cached[0] == row["definition_hash"]:
                self._specs.move_to_end(key)
                return cached[1]
        spec = self._built(row)
        with self._lock:
            self._specs[key] = (row["definition_hash"], spec)
            while len(self._specs) > self._size:
                self._specs.popitem(last=False)
        return spec

    def _built(self, row: RowMapping) -> JobSpec:
        """The spec of ``row``: from a template of its definition if one is kept."""
        shared = _shared(row)
        with self._lock:
            template = self._templates.get(shared)
            if template is not None:
                self._templates.move_to_end(shared)
        if template is not None:
            return renamed_spec(template, row)
        spec = spec_from_columns(row)
        with self._lock:
            self._templates[shared] = spec
            while len(self._templates) > min(self._size, TEMPLATES):
                self._templates.popitem(last=False)
        return spec

    def stored(self, row: RowMapping) -> StoredJob:
        """The :class:`StoredJob` a full ``scheduler_job`` row holds."""
        return job_from_columns(row, self.get(row))
