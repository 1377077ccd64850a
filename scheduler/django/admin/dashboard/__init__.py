"""The admin's dashboard, ``/admin/scheduler/dashboard/``, and the charts on a job's page.

* :mod:`.periods`: the windows offered (24 hours, 7 days, 30 days).
* :mod:`.counts`, :mod:`.percentiles`, :mod:`.health`: the figures, each
  aggregated in the database.
* :mod:`.timeline`: the next 24 hours of slots, from the schedule math.
* :mod:`.marks`, :mod:`.svg`, :mod:`.charts`, :mod:`.jobcharts`: the charts,
  server-rendered SVG (no script, nothing fetched), in the admin's colours.
* :mod:`.views`: the page and its permission (view on runs).
"""

from __future__ import annotations

from .views import DashboardAdmin

__all__ = ["DashboardAdmin"]
