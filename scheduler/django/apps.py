"""The app configuration: label ``scheduler``.  When ready, it registers the system
checks, makes ``scheduler.defer()`` write into the site's database, makes Celery
workers record runs there, registers the Sentry Crons check-ins, and sends the
run signals and notifications from the process's run hooks."""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from ..tasks.registry import TaskRegistry

logger = logging.getLogger(__name__)


def allow_task_patterns(registry: TaskRegistry | None = None) -> None:
    """Allow-list ``SCHEDULER["TASKS"]`` in ``registry`` (default: the one every
    process shares, which Celery and django.tasks workers resolve tasks in).

    A pattern the registry refuses is skipped here: the system checks report
    it (``scheduler.E004``), and a process should not fail to start for it.
    """
    from ..tasks.registry import TaskRegistrationError
    from ..tasks.registry import registry as default_registry
    from .settings import read_settings

    found, _ = read_settings()
    for pattern in found.tasks:
        with suppress(TaskRegistrationError):
            (registry or default_registry).allow(pattern)


def enable_sentry_crons() -> None:
    """Register Sentry Crons check-ins as ``SCHEDULER["SENTRY_CRONS"]`` says, in this
    process (the scheduler, and the Celery workers that execute its runs).

    Raises :class:`~django.core.exceptions.ImproperlyConfigured` when it is ``True``
    and Sentry cannot be used (not installed, no DSN, a malformed DSN).
    """
    from django.core.exceptions import ImproperlyConfigured

    from ..monitoring.sentry_setup import SentryCronsError, setup_sentry_crons
    from .settings import read_settings

    found, _ = read_settings()
    try:
        setup_sentry_crons(found.sentry_crons, exclude=found.sentry_crons_exclude)
    except SentryCronsError as error:
        raise ImproperlyConfigured(f"SCHEDULER['SENTRY_CRONS']: {error}") from error


class SchedulerConfig(AppConfig):
    name = "scheduler.django"
    label = "scheduler"
    verbose_name = "Scheduler"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ..tasks.defer import set_default_deferrer
        from ..workers.store import set_default_store_factory
        from . import checks  # noqa: F401  (registers the system checks)
        from .deferral import django_deferrer
        from .settings import scheduler_settings
        from .store import DjangoStore

        # defer() writes through the Django store, on transaction commit.
        set_default_deferrer(django_deferrer)
        # Workers outside the scheduler (Celery) record runs in the site's database,
        # and may run what SCHEDULER["TASKS"] allows, as the scheduler does.
        set_default_store_factory(
            lambda: DjangoStore(using=scheduler_settings().database), origin="the Django app"
        )
        allow_task_patterns()
        enable_sentry_crons()
        _connect_run_hooks()


def _connect_run_hooks() -> None:
    """Send the app's signals and the configured notifications from the process's hooks."""
    from django.core.exceptions import ImproperlyConfigured

    from ..monitoring.hooks import hooks
    from .notifications import install_site_notifiers
    from .signals import connect_signals

    connect_signals(hooks)
    try:
        install_site_notifiers()
    except ImproperlyConfigured as error:  # reported by the checks (scheduler.E010)
        logger.error("no notifications will be sent: %s", error)
