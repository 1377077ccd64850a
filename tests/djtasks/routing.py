"""A database router for the test process: django-tasks-db's table goes to the
database of the test at hand, where the worker subprocess looks for it."""

from __future__ import annotations

from typing import Any


class TasksRouter:
    #: The alias the current test points the backend at (set by the ``djtasks`` fixture).
    alias = "default"

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return self.alias if model._meta.app_label == "django_tasks_database" else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return self.db_for_read(model)
