"""The app configuration: label ``scheduler``.  When ready, it registers the system
checks and makes ``scheduler.defer()`` write into the site's database."""

from __future__ import annotations

from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    name = "scheduler.django"
    label = "scheduler"
    verbose_name = "Scheduler"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ..deferred import set_default_deferrer
        from . import checks  # noqa: F401  (registers the system checks)
        from .deferral import django_deferrer

        set_default_deferrer(django_deferrer)
