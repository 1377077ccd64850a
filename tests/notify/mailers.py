"""Mail settings as each Django wants them: ``ADMINS`` as (name, address) pairs before
6.0 and addresses since (6.0 deprecates the pairs); the backend in ``EMAIL_BACKEND``
before 6.1 and in ``MAILERS`` since (6.1 deprecates the old settings).  Warnings are
errors in the tests, so each version gets its own form."""

from __future__ import annotations

from typing import Any

import django

__all__ = ["ADMINS", "use_locmem", "use_smtp"]

ADMINS: list[object] = (
    ["ops@example.com"] if django.VERSION >= (6, 0) else [("Ops", "ops@example.com")]
)
_LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
_SMTP = "django.core.mail.backends.smtp.EmailBackend"


def use_locmem(settings: Any) -> None:
    """Mail goes to ``django.core.mail.outbox``."""
    if django.VERSION >= (6, 1):
        settings.MAILERS = {"default": {"BACKEND": _LOCMEM}}
    else:
        settings.EMAIL_BACKEND = _LOCMEM


def use_smtp(settings: Any, host: str, port: int) -> None:
    """Mail goes to the SMTP server at ``host:port``."""
    if django.VERSION >= (6, 1):
        settings.MAILERS = {"default": {"BACKEND": _SMTP, "OPTIONS": {"host": host, "port": port}}}
    else:
        settings.EMAIL_BACKEND = _SMTP
        settings.EMAIL_HOST, settings.EMAIL_PORT = host, port
