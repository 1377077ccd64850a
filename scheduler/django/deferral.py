"""``defer()`` on a Django site: into the scheduler's database, when the transaction commits.

The app's :meth:`~scheduler.django.apps.SchedulerConfig.ready` makes
:func:`django_deferrer` the default of :func:`scheduler.defer`, so that
``send_reminder.defer(delay=timedelta(hours=2))`` in a view:

* writes a one-off job through :class:`~scheduler.django.store.DjangoStore`
  on ``SCHEDULER["DATABASE"]`` (or ``using=``);
* does so when the transaction open on that database commits
  (``transaction.on_commit``), so a rolled-back transaction defers nothing;
  outside a transaction, at once.  ``on_commit=False`` writes it at once,
  inside the open transaction, which then decides its fate;
* knows the tasks the scheduler knows: the ``@job`` functions of the
  installed apps' ``tasks`` modules and the patterns of ``SCHEDULER["TASKS"]``;
* gives the job the site's ``TIME_ZONE``, so the admin shows it on that clock.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Unpack

from django.conf import settings
from django.db import transaction

from ..clock import Clock
from ..errors import InvalidJob
from ..tasks.deferrer import Deferrer
from ..tasks.keywords import FactoryKeywords, keyword_signature
from .discovery import task_registry
from .settings import scheduler_settings
from .store import DjangoStore

__all__ = ["django_deferrer"]


@keyword_signature(FactoryKeywords)
def django_deferrer(*, clock: Clock | None = None, **given: Unpack[FactoryKeywords]) -> Deferrer:
    """The :class:`~scheduler.tasks.deferrer.Deferrer` for one ``defer()`` or cancellation:
    a :class:`~scheduler.tasks.defer.DeferrerFactory`, given the keywords of
    :class:`~scheduler.tasks.keywords.FactoryKeywords`.

    ``on_commit`` defaults to True.  ``using`` is a database alias (default
    ``SCHEDULER["DATABASE"]``); an unknown one raises
    :class:`~scheduler.errors.InvalidJob`.  Raises
    :class:`~django.core.exceptions.ImproperlyConfigured` if ``SCHEDULER``
    is broken (``manage.py check`` says how).
    """
    config = scheduler_settings()
    using = given.get("using")
    alias = config.database if using is None else _known_alias(using)
    hook: Callable[[Callable[[], None]], object] | None = None
    if given.get("on_commit") is not False:
        hook = partial(transaction.on_commit, using=alias)
    return Deferrer(
        DjangoStore(using=alias),
        registry=task_registry(config.tasks),
        clock=clock,
        after_commit=hook,
        timezone=config.timezone,
    )


def _known_alias(using: object) -> str:
    if isinstance(using, str) and using in settings.DATABASES:
        return using
    known = ", ".join(map(repr, settings.DATABASES))
    raise InvalidJob(f"using={using!r} is not a database in DATABASES; the aliases are {known}")
