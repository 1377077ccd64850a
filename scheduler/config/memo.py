"""What a good read of a schedules file remembers, so that reading the same jobs
again does not build them again.

A job's :class:`~scheduler.model.jobs.JobSpec` depends only on the text of
its entry (its name and settings), the column it starts at, and what comes
before the ``jobs`` mapping (the file's ``timezone``, ``defaults`` and
``calendars``, and the default zone of the reader).  The digest of these
names the job read from them: an unchanged job of a file read again is the
spec read the time before, and a job whose text, or whose file's context,
changed in any way is read afresh.  Only reads without issues are remembered.

The whole of the last good read is remembered too, by the digest of the
file's name, text and default zone: a file read again exactly as it was (a
reconcile that finds nothing changed, the usual case) is not parsed at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..model.jobs import JobSpec
from .loaded import JobLocations, Survey

__all__ = ["ReadMemo", "Remembered"]

_DIGEST_SIZE = 20


@dataclass(frozen=True, slots=True)
class Remembered:
    """One job as a good read found it: its spec, the line of its name, where
    its settings are written and the task and executor it names."""

    spec: JobSpec
    line: int
    locations: JobLocations
    declared: Mapping[str, str]

    def located(self, line: int) -> JobLocations:
        """Where the job's settings are written now that its name is on ``line``
        (the ones written in ``defaults``, before all jobs, stay where they are)."""
        return self.locations if line == self.line else self.locations.moved(line)


class ReadMemo:
    """The jobs of the last good read of one file, by digest (see the module).

    Give the same memo to each read of a file (:class:`~scheduler.config.
    reconcile.SchedulesFile` does); a read with any issue leaves it as it was.
    """

    __slots__ = ("_jobs", "_next", "_whole")

    def __init__(self) -> None:
        self._jobs: dict[bytes, Remembered] = {}
        self._next: dict[bytes, Remembered] = {}
        self._whole: tuple[bytes, Survey] | None = None

    def __len__(self) -> int:
        return len(self._jobs)

    @staticmethod
    def context(*parts: object) -> Any:
        """A hasher holding the file's context, which :meth:`digest` copies per job."""
        hasher = hashlib.blake2b(digest_size=_DIGEST_SIZE)
        for part in parts:
            hasher.update(repr(part).encode("utf-8", "surrogatepass"))
            hasher.update(b"\0")
        return hasher

    @staticmethod
    def digest(context: Any, column: int, entry_text: str) -> bytes:
        """The digest of one job's entry, written at ``column``, in ``context``."""
        hasher = context.copy()
        hasher.update(b"%d\0" % column)
        hasher.update(entry_text.encode("utf-8", "surrogatepass"))
        return bytes(hasher.digest())

    @staticmethod
    def text_digest(*parts: str) -> bytes:
        """The digest of a whole read: the file's name, its text, the default zone."""
        hasher = hashlib.blake2b(digest_size=_DIGEST_SIZE)
        for part in parts:
            hasher.update(part.encode("utf-8", "surrogatepass"))
            hasher.update(b"\0")
        return bytes(hasher.digest())

    def recall_whole(self, digest: bytes) -> Survey | None:
        """What the last good read gave, if it read a text of this digest; else ``None``."""
        if self._whole is not None and self._whole[0] == digest:
            return self._whole[1]
        return None

    def keep_whole(self, digest: bytes, result: Survey) -> None:
        """Remember what a good read of the text of ``digest`` gave."""
        self._whole = (digest, result)

    def recall(self, digest: bytes) -> Remembered | None:
        """The job a good read found with this digest, if any; it is kept for the next read."""
        found = self._jobs.get(digest)
        if found is not None:
            self._next[digest] = found
        return found

    def keep(self, digest: bytes, job: Remembered) -> None:
        """Remember ``job``, read now, once this read turns out good."""
        self._next[digest] = job

    def settle(self, good: bool) -> None:
        """End a read: a good one's jobs replace the remembered ones (so a job
        removed from the file is forgotten), a bad one's are dropped."""
        if good:
            self._jobs = self._next
        else:
            self._whole = None
        self._next = {}
