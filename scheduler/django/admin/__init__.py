"""The scheduler's pages in Django's admin: jobs, runs, replicas, shared calendars, dashboard.

Django imports this package when the admin autodiscovers; each module
registers its model admin.  See ``docs/django/admin.md``.
"""

from __future__ import annotations

from .calendars import SharedCalendarAdmin
from .dashboard import DashboardAdmin
from .jobs import JobAdmin
from .replicas import ReplicaAdmin
from .runs import RunAdmin

__all__ = ["DashboardAdmin", "JobAdmin", "ReplicaAdmin", "RunAdmin", "SharedCalendarAdmin"]
