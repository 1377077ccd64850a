"""The scheduler loop and the rules it applies to each due slot.

:mod:`.loop` is the :class:`Engine`; :mod:`.settings` its
:class:`EngineConfig`; :mod:`.planning` decides what each due slot becomes
(grace, catch-up, overlap, jitter); :mod:`.recording` records how a run ended
and schedules its retry.
"""

from __future__ import annotations

from .loop import Engine, EngineConfig, Retention, TickReport

__all__ = ["Engine", "EngineConfig", "Retention", "TickReport"]
