"""Logs for machines: one JSON object per line, with the scheduler's stable ``extra`` keys.

The scheduler logs through ``logging.getLogger(__name__)`` and never installs
a handler; where its lines go and how they look is the application's choice.
:class:`JsonFormatter` is for log pipelines (Loki, Elasticsearch, CloudWatch,
``jq``): each record becomes one line holding ``timestamp``, ``level``,
``logger`` and ``message``, then every key the code passed in ``extra``
(``event``, ``job``, ``run_id``, ``status``, ...), then ``traceback`` when the
record carries an exception.  ``docs/reference/logs.md`` lists the keys.

Use it from Django's ``LOGGING``::

    "formatters": {"json": {"()": "scheduler.monitoring.logs.JsonFormatter"}}

or from the command line: ``tickwork run --log-format json`` and
``manage.py run_scheduler --log-format json`` (:func:`log_formatter`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any

__all__ = [
    "BASE_FIELDS",
    "LOG_FORMATS",
    "TEXT_FORMAT",
    "JsonFormatter",
    "extra_of",
    "log_formatter",
]

#: The ``--log-format`` choices.
LOG_FORMATS = ("text", "json")
#: The line ``--log-format text`` writes.
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"
#: The keys every JSON line has, first and in this order.
BASE_FIELDS = ("timestamp", "level", "logger", "message")

#: What every LogRecord holds whatever the caller passed: not ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    """Format each record as one line of JSON.

    The line holds :data:`BASE_FIELDS`: ``timestamp`` (when the record was
    made, ISO 8601 in UTC with milliseconds), ``level`` (``INFO``, ...),
    ``logger`` (its name) and ``message`` (with its arguments filled in);
    then each ``extra`` key of the record, as given; then ``traceback`` (the
    formatted exception) when the record has one, and ``stack`` when it was
    logged with ``stack_info``.  An ``extra`` key named like a base field is
    written as ``extra_<key>``, so it never hides one.

    Values that are not JSON types are written the way a reader expects:
    instants and dates in ISO 8601, durations in seconds, enums as their value,
    tuples as lists, sets as sorted lists, anything else as its ``str()``; an
    ``extra`` value JSON cannot hold even so (a dict with tuple keys, a cycle)
    is written as its ``repr()``, so a line is never lost.  The output is
    ASCII-only unless ``ensure_ascii=False``.
    """

    def __init__(self, *, ensure_ascii: bool = True) -> None:
        super().__init__()
        self.ensure_ascii = ensure_ascii

    def format(self, record: logging.LogRecord) -> str:
        """One JSON object, without a newline (the handler adds it)."""
        line = self.fields(record)
        try:
            return self._dumps(line)
        except (TypeError, ValueError):  # an extra value JSON cannot hold: its repr
            return self._dumps({key: _or_repr(value, self._dumps) for key, value in line.items()})

    def _dumps(self, value: object) -> str:
        return json.dumps(value, default=_jsonable, ensure_ascii=self.ensure_ascii)

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        """What :meth:`format` writes for ``record``, as a dict."""
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_of(record).items():
            line[f"extra_{key}" if key in BASE_FIELDS else key] = value
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["traceback"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return line


def extra_of(record: logging.LogRecord) -> Mapping[str, Any]:
    """The keys the caller passed in ``extra`` (anything a plain record lacks)."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
    }


def log_formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``--log-format``: ``text`` (one readable line) or ``json``."""
    if log_format == "json":
        return JsonFormatter()
    if log_format == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")


def _jsonable(value: object) -> object:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        try:
            return sorted(value)
        except TypeError:  # mixed types: any order
            return list(value)
    return str(value)


def _or_repr(value: object, dumps: Callable[[object], str]) -> object:
    try:
        dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value
