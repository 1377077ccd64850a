"""A datetime field that stores instants exactly as the SQLAlchemy store does.

PostgreSQL keeps ``timestamp with time zone`` either way.  SQLite has no
datetime type: both stores keep the UTC wall time as text and compare it as
text, so the text must have one fixed form, ``YYYY-MM-DD HH:MM:SS.ffffff``.
Django's own :class:`~django.db.models.DateTimeField` drops the fraction when
it is zero, and ``12:00:00`` and ``12:00:00.000000`` are different text: a job
the other store wrote as due at ``12:00:00.000000`` would not match
``next_run_at <= '12:00:00'``, and the unique slot constraint would let both
texts of one slot in.

MariaDB and MySQL keep ``datetime(6)`` without a zone: both stores write the
UTC wall time, whatever the connection's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression

from ..clock import ensure_aware_utc

__all__ = ["UTCDateTimeField", "instant_text"]


def instant_text(instant: datetime) -> str:
    """The SQLite text of an aware instant: UTC, always six fraction digits."""
    utc = ensure_aware_utc(instant)
    return utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


class UTCDateTimeField(models.DateTimeField):  # type: ignore[type-arg]
    """An aware instant in UTC; naive datetimes are refused with :class:`ValueError`."""

    def get_prep_value(self, value: Any) -> Any:
        # Django would guess a zone for a naive value, with a warning; we refuse.
        if isinstance(value, datetime):
            ensure_aware_utc(value, self.name or "instant")
        return super().get_prep_value(value)

    def get_db_prep_value(
        self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False
    ) -> Any:
        if value is None or isinstance(value, Expression):
            return value
        if not isinstance(value, datetime):
            # Strings and dates from forms: let Django parse them, then insist.
            value = self.to_python(value)
        if connection.vendor == "sqlite":
            return instant_text(value)
        if connection.vendor == "mysql":
            return ensure_aware_utc(value, self.name or "instant").replace(tzinfo=None)
        return ensure_aware_utc(value, self.name or "instant")

    def from_db_value(
        self, value: datetime | None, expression: object, connection: BaseDatabaseWrapper
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # written by something else without an offset: it is UTC
            return value.replace(tzinfo=UTC)
        return value if value.tzinfo is UTC else value.astimezone(UTC)
