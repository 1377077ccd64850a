"""The app configuration: label ``scheduler``; system checks register on ready."""

from __future__ import annotations

from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    name = "scheduler.django"
    label = "scheduler"
    verbose_name = "Scheduler"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ..worker_stores import set_default_store_factory
        from . import checks  # noqa: F401  (registers the system checks)
        from .settings import scheduler_settings
        from .store import DjangoStore

        # Workers outside the scheduler (Celery) record runs in the site's database.
        set_default_store_factory(
            lambda: DjangoStore(using=scheduler_settings().database), origin="the Django app"
        )
