"""The site's notifiers: built from ``SCHEDULER["NOTIFIERS"]``, installed on the
process's run hooks, and checked by ``manage.py check``.

Every process that loads the app installs them when the app is ready (so a
Celery worker that records a failure mails about it as the scheduler would);
``run_scheduler`` builds them again from the current settings if those
changed, refuses to start when they are wrong, and sends what is queued
before it exits.  System check ids:

* ``scheduler.E010`` an entry of ``NOTIFIERS`` cannot be built (unknown
  backend, unknown or bad option), naming the key;
* ``scheduler.E011`` a job of the schedules file names a notifier in its
  ``notify:`` that ``NOTIFIERS`` does not configure;
* ``scheduler.W003`` a ``mail_admins`` notifier is configured and ``ADMINS`` is empty.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from ..config.reader import survey_schedules
from ..monitoring.hooks import RunHooks
from ..monitoring.hooks import hooks as default_hooks
from ..monitoring.notifiers.base import Notifier
from ..monitoring.notifiers.building import (
    build_notifier,
    build_notifiers,
    unknown_notifier_names,
)
from ..monitoring.notifiers.options import NotifierConfigError
from .settings import read_settings

__all__ = [
    "check_notifiers",
    "flush_site_notifiers",
    "install_site_notifiers",
    "uninstall_site_notifiers",
]

logger = logging.getLogger(__name__)

_WHERE = "SCHEDULER['NOTIFIERS']"
_lock = threading.Lock()
_installed: tuple[object, dict[str, Notifier]] = ({}, {})


def install_site_notifiers(hooks: RunHooks | None = None) -> dict[str, Notifier]:
    """The notifiers of the current settings, installed on ``hooks`` (the process's).

    Built once per distinct ``NOTIFIERS`` value: the same settings give the
    same notifiers; changed ones replace them (the old ones are closed).
    Raises :class:`~django.core.exceptions.ImproperlyConfigured` naming the bad key.
    """
    global _installed  # one set of notifiers per process
    found, _ = read_settings()
    with _lock:
        configured, current = _installed
        if configured == found.notifiers:
            return current
        try:
            built = build_notifiers(found.notifiers, where=_WHERE)
        except NotifierConfigError as error:
            raise ImproperlyConfigured(f"{error} (scheduler.E010)") from None
        for notifier in current.values():
            notifier.uninstall(hooks)
            notifier.close(timeout=1.0)
        for notifier in built.values():
            notifier.install(hooks if hooks is not None else default_hooks)
        _installed = (dict(found.notifiers), built)
        return built


def uninstall_site_notifiers(hooks: RunHooks | None = None) -> None:
    """Take the installed notifiers off ``hooks`` and close them (tests, reloads)."""
    global _installed  # one set of notifiers per process
    with _lock:
        _, current = _installed
        _installed = ({}, {})
    for notifier in current.values():
        notifier.uninstall(hooks)
        notifier.close(timeout=1.0)


def flush_site_notifiers(timeout: float) -> None:
    """Wait up to ``timeout`` seconds for each installed notifier's queue to empty."""
    for notifier in _installed[1].values():
        if not notifier.flush(timeout):
            logger.warning("notifier %s still had notifications queued at exit", notifier.name)


@atexit.register
def _close_at_exit() -> None:  # pragma: no cover - runs at interpreter exit
    for notifier in _installed[1].values():
        notifier.close(timeout=2.0)


@checks.register("scheduler")
def check_notifiers(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """E010 for each notifier that cannot be built, E011 for each unknown name in a job,
    W003 for mail to nobody."""
    if app_configs is not None and not any(app.label == "scheduler" for app in app_configs):
        return []
    found, _ = read_settings()
    messages: list[checks.CheckMessage] = []
    for name, entry in found.notifiers.items():
        try:
            notifier = build_notifier(name, entry, where=_WHERE)
        except NotifierConfigError as error:
            messages.append(_error(str(error)))
        else:
            notifier.close(timeout=0)
            messages += _mail_without_admins(name, notifier)
    messages += _job_names(found.schedules, found.timezone, found.notifiers)
    return messages


def _mail_without_admins(name: str, notifier: Notifier) -> list[checks.CheckMessage]:
    from django.conf import settings

    from .mail import MailAdminsNotifier

    if not isinstance(notifier, MailAdminsNotifier) or settings.ADMINS:
        return []
    return [
        checks.Warning(
            f"{_WHERE}[{name!r}] mails ADMINS, and ADMINS is empty: no mail will be sent",
            hint="Set ADMINS to the addresses that should hear about failed runs.",
            obj="settings.SCHEDULER",
            id="scheduler.W003",
        )
    ]


def _error(message: str) -> checks.Error:
    return checks.Error(
        message,
        hint='Write {"ops": {"BACKEND": "mail_admins", "OPTIONS": {"THROTTLE": "30m"}}, '
        '"slack": {"BACKEND": "webhook", "OPTIONS": {"URL": "https://..."}}}; the settings '
        "reference lists each backend's options.",
        obj="settings.SCHEDULER",
        id="scheduler.E010",
    )


def _job_names(schedules: object, timezone: str, configured: Mapping[str, Any]) -> list[Any]:
    if schedules is None:
        return []
    # The file's own errors are scheduler.E005; its good jobs are checked beside them.
    survey = survey_schedules(schedules, default_timezone=timezone)  # type: ignore[arg-type]
    loaded = survey.schedules
    return [
        checks.Error(
            str(loaded.issue(job, "notify", problem)),
            hint="Configure it in SCHEDULER['NOTIFIERS'], or name one that is.",
            id="scheduler.E011",
        )
        for job, problem in unknown_notifier_names(loaded.jobs, configured)
    ]
