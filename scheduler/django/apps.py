"""The app configuration: label ``scheduler``.  When ready, it registers the system
checks, makes ``scheduler.defer()`` write into the site's database, and makes Celery
workers record runs there."""

from __future__ import annotations

from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    name = "scheduler.django"
    label = "scheduler"
    verbose_name = "Scheduler"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ..deferred import set_default_deferrer
        from ..worker_stores import set_default_store_factory
        from . import checks  # noqa: F401  (registers the system checks)
        from .deferral import django_deferrer
        from .settings import scheduler_settings
        from .store import DjangoStore

        # defer() writes through the Django store, on transaction commit.
        set_default_deferrer(django_deferrer)
        # Workers outside the scheduler (Celery) record runs in the site's database.
        set_default_store_factory(
            lambda: DjangoStore(using=scheduler_settings().database), origin="the Django app"
        )
