"""When jobs are due: :class:`Cron`, :class:`Every` and :class:`Once`.

:mod:`.kinds` holds the three schedules and the :class:`Schedule` protocol,
:mod:`.cron` the croniter adapter with the daylight-saving rules, and
:mod:`.durations` the ``15m`` / ``1h30m`` notation.  Nothing here knows about
storage, executors or the current time.
"""

from __future__ import annotations

from .kinds import Cron, Every, Once, Schedule, get_zone, upcoming

__all__ = ["Cron", "Every", "Once", "Schedule", "get_zone", "upcoming"]
