"""Notifiers from settings: ``{"BACKEND": ..., "OPTIONS": {...}}`` entries, by name.

The shape is that of ``SCHEDULER["EXECUTORS"]``.  ``BACKEND`` is a short name
(:data:`BACKENDS`: ``webhook``, and ``mail_admins`` with the Django app) or
the dotted path of a :class:`~.base.Notifier` subclass of your own.  Every
problem raises :class:`~.options.NotifierConfigError` naming the notifier and
the key, before anything is sent.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping

from ...clock import Clock, SystemClock
from ...model.jobs import JobSpec
from ..hooks import RunHooks
from .base import Notifier
from .options import NotifierConfigError, OptionReader

__all__ = [
    "BACKENDS",
    "build_notifier",
    "build_notifiers",
    "close_notifiers",
    "install_notifiers",
    "unknown_notifier_names",
]

#: The short ``BACKEND`` names, and the class each stands for.
BACKENDS = {
    "webhook": "scheduler.monitoring.notifiers.webhook.WebhookNotifier",
    "mail_admins": "scheduler.django.mail.MailAdminsNotifier",
}
_ENTRY_KEYS = ("BACKEND", "OPTIONS")


def build_notifier(
    name: str, entry: object, *, clock: Clock | None = None, where: str = "NOTIFIERS"
) -> Notifier:
    """The notifier ``entry`` describes, called ``name``.

    ``where`` prefixes messages (``SCHEDULER['NOTIFIERS']`` in Django).
    """
    at = f"{where}[{name!r}]"
    if not isinstance(entry, Mapping):
        raise NotifierConfigError(f'{at} must be a dict such as {{"BACKEND": "webhook", ...}}')
    unknown = sorted(map(str, set(entry) - set(_ENTRY_KEYS)))
    if unknown:
        raise NotifierConfigError(
            f"{at} has an unknown key {unknown[0]!r} (keys: BACKEND, OPTIONS)"
        )
    backend = _backend(at, entry.get("BACKEND"))
    options = OptionReader(at, entry.get("OPTIONS", {}))
    return backend.from_options(name, options, clock=clock or SystemClock())


def _backend(at: str, backend: object) -> type[Notifier]:
    known = ", ".join(sorted(BACKENDS))
    if not isinstance(backend, str) or not backend:
        raise NotifierConfigError(f"{at}['BACKEND'] must be one of {known} or a dotted path")
    path = BACKENDS.get(backend, backend)
    module, _, attribute = path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), attribute) if module else None
    except ImportError as error:
        raise NotifierConfigError(
            f"{at}['BACKEND']: {backend!r} cannot be imported ({error})"
        ) from None
    if not (isinstance(found, type) and issubclass(found, Notifier)):
        raise NotifierConfigError(
            f"{at}['BACKEND'] must be one of {known} or the dotted path of a Notifier "
            f"subclass, got {backend!r}"
        )
    return found


def build_notifiers(
    configured: Mapping[str, object], *, clock: Clock | None = None, where: str = "NOTIFIERS"
) -> dict[str, Notifier]:
    """Every notifier of ``configured``, by name; the first problem raises."""
    if not isinstance(configured, Mapping):
        raise NotifierConfigError(f"{where} must be a dict of named notifiers")
    return {
        str(name): build_notifier(str(name), entry, clock=clock, where=where)
        for name, entry in configured.items()
    }


def install_notifiers(notifiers: Iterable[Notifier], hooks: RunHooks | None = None) -> None:
    """Register each notifier on ``hooks`` (default: the process's)."""
    for notifier in notifiers:
        notifier.install(hooks)


def close_notifiers(
    notifiers: Iterable[Notifier], hooks: RunHooks | None = None, *, timeout: float = 5.0
) -> None:
    """Unregister each notifier and send what it has queued, within ``timeout`` each."""
    for notifier in notifiers:
        notifier.uninstall(hooks)
        notifier.close(timeout)


def unknown_notifier_names(specs: Iterable[JobSpec], names: Iterable[str]) -> list[tuple[str, str]]:
    """``(job, message)`` for each job whose ``notify`` names a notifier not in ``names``."""
    known = set(names)
    problems = []
    for spec in specs:
        missing = [name for name in spec.notify.to or () if name not in known]
        if missing:
            configured = ", ".join(sorted(known)) or "none"
            problems.append(
                (
                    spec.name,
                    f"no notifier named {', '.join(map(repr, missing))} (configured: {configured})",
                )
            )
    return problems
