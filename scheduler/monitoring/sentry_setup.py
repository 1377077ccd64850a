"""``SCHEDULER["SENTRY_CRONS"]`` and ``tickwork run --sentry-crons``: whether to send
Sentry Crons check-ins, decided where Sentry may not even be installed.

Importing this module never imports ``sentry_sdk``; :func:`setup_sentry_crons`
does, only when it is asked to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from .sentry_monitors import SentryCronsError

if TYPE_CHECKING:
    from ..model.jobs import JobSpec
    from .hooks import RunHooks
    from .sentry import SentryCrons

__all__ = ["SentryCronsError", "check_sentry_jobs", "setup_sentry_crons"]


def setup_sentry_crons(
    setting: bool | None,
    *,
    dsn: str | None = None,
    exclude: Sequence[str] = (),
    hooks: RunHooks | None = None,
) -> SentryCrons | None:
    """Register the check-ins ``setting`` asks for on ``hooks`` (default: the process's).

    * ``False``: none (and those registered before are removed);
    * ``None`` (unset): check-ins whenever the Sentry SDK is initialised with a
      DSN in this process, at the time of each run; nothing if ``sentry-sdk``
      is not installed;
    * ``True``: check-ins always, initialising the SDK from ``dsn`` or
      ``$SENTRY_DSN`` if the process has not.  Raises :class:`SentryCronsError`
      saying why when ``sentry-sdk`` is not installed, or no DSN is set, or the
      DSN is malformed.

    ``exclude`` holds job-name patterns (``fnmatch``) that send nothing.
    """
    try:
        from . import sentry
    except ImportError as error:
        if setting:
            raise SentryCronsError(
                "Sentry Crons is switched on but sentry-sdk is not installed: "
                "pip install 'tickwork[sentry]'"
            ) from error
        return None
    if setting is False:
        sentry.disable(hooks)
        return None
    if setting:
        return sentry.enable(dsn=dsn, exclude=exclude, hooks=hooks)
    return sentry.enable_when_active(exclude=exclude, hooks=hooks)


def check_sentry_jobs(
    jobs: Callable[[], Iterable[JobSpec]], *, hooks: RunHooks | None = None
) -> list[str]:
    """When check-ins are being sent, warn (log) about the jobs of ``jobs()`` that
    share a monitor slug or that Sentry cannot follow; return the warnings.

    For a scheduler's start: ``jobs`` is called only when Sentry Crons is on.
    """
    try:
        from . import sentry
    except ImportError:
        return []
    crons = sentry.enabled(hooks)
    if crons is None or not crons.sending:
        return []
    return crons.check_jobs(jobs())
