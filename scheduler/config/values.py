"""Readers: one YAML value node in, one typed Python value out.

Each reader takes the :class:`~scheduler.config.nodes.Document` and a value
node, and returns the value (a string, an integer, a duration, an instant, a
JSON list or mapping) or raises :class:`~scheduler.config.nodes.NodeProblem`
saying what was expected and what was found; for a collection, ``inner``
locates each bad item.  :mod:`.keys` says which reader reads each key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import InvalidSchedule
from ..schedules.calendars import DateRange, Holidays
from ..schedules.durations import format_duration, parse_duration
from .nodes import (
    BOOL_TAG,
    FLOAT_TAG,
    INT_TAG,
    MAP_TAG,
    MERGE_TAG,
    NULL_TAG,
    SEQ_TAG,
    STR_TAG,
    Document,
    Inner,
    NodeProblem,
    entries,
    short_tag,
)

__all__ = [
    "Reader",
    "boolean",
    "choice",
    "date_ranges",
    "duration",
    "holidays",
    "instant",
    "integer",
    "job_names",
    "json_list",
    "json_mapping",
    "json_value",
    "optional",
    "scalar",
    "text",
]

_INSTANT_EXAMPLE = "2026-01-01T09:00:00+01:00"
_JSON_EXPECTED = "expected a JSON value (string, number, true/false, null, list or mapping)"

#: Reads one value node of a document, or raises :class:`~scheduler.config.nodes.NodeProblem`.
Reader = Callable[[Document, Node], Any]


def text(what: str) -> Reader:
    """A reader of strings; ``what`` describes the string expected."""

    def read(doc: Document, node: Node) -> str:
        value = _scalar(doc, node)
        if isinstance(value, str):
            return value
        raise _expected(doc, what, node)

    return read


def integer(doc: Document, node: Node) -> int:
    """Read an integer (not a boolean)."""
    value = _scalar(doc, node)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _expected(doc, "an integer", node)


def scalar(doc: Document, node: Node) -> Any:
    """Read any scalar (a string or a number); the job field checks what it means."""
    value = _scalar(doc, node)
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return value
    raise _expected(doc, "a number or a string", node)


def boolean(doc: Document, node: Node) -> bool:
    """Read ``true`` or ``false``."""
    value = _scalar(doc, node)
    if isinstance(value, bool):
        return value
    raise _expected(doc, "true or false", node)


def choice(allowed: Sequence[str]) -> Reader:
    """A reader of one of the ``allowed`` strings."""
    what = "one of " + ", ".join(map(repr, allowed))

    def read(doc: Document, node: Node) -> str:
        value = _scalar(doc, node)
        if isinstance(value, str) and value in allowed:
            return value
        raise _expected(doc, what, node)

    return read


def duration(*, positive: bool) -> Reader:
    """A reader of durations (``90s``, ``1h30m`` or a number of seconds)."""
    what = "a positive duration" if positive else "a duration"

    def read(doc: Document, node: Node) -> timedelta:
        value = _scalar(doc, node)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _expected(doc, f"{what} such as '90s', '15m' or '1h30m'", node)
        try:
            parsed = parse_duration(value)
        except ValueError as error:
            raise NodeProblem(str(error)) from None
        if positive and parsed <= timedelta(0):
            raise NodeProblem(f"expected {what}, got {format_duration(parsed)}")
        return parsed

    return read


def instant(doc: Document, node: Node) -> datetime:
    """Read a date and time with a UTC offset, written as a YAML timestamp or a string."""
    value = _scalar(doc, node)
    what = f"a date and time with a UTC offset, such as {_INSTANT_EXAMPLE}"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise _expected(doc, what, node) from None
        if value.utcoffset() is None:
            found = f"the string {node.value!r}, which has no UTC offset"
            raise NodeProblem(f"expected {what}, got {found}")
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value
    raise _expected(doc, what, node)


def job_names(doc: Document, node: Node) -> list[str]:
    """Read a job name, or a list of job names (``after: extract`` or ``after: [extract]``)."""
    what = "a job name or a list of job names"
    if isinstance(node, SequenceNode):
        names = [_scalar(doc, item) for item in node.value]
        inner = [
            Inner(item, f"[{index}]", f"expected a job name, got {doc.describe(item)}")
            for index, (item, name) in enumerate(zip(node.value, names, strict=True))
            if not isinstance(name, str)
        ]
        if inner:
            raise NodeProblem(inner[0].message, inner)
        return names
    value = _scalar(doc, node)
    if isinstance(value, str):
        return [value]
    raise _expected(doc, what, node)


def json_list(doc: Document, node: Node) -> list[Any]:
    """Read a list that holds JSON values only."""
    if not isinstance(node, SequenceNode):
        raise _expected(doc, "a list", node)
    return list(_json(doc, node))


def json_mapping(doc: Document, node: Node) -> dict[str, Any]:
    """Read a mapping with string keys that holds JSON values only."""
    if not isinstance(node, MappingNode):
        raise _expected(doc, "a mapping", node)
    return dict(_json(doc, node))


def date_ranges(doc: Document, node: Node) -> tuple[DateRange, ...]:
    """Read a date (``2026-12-24``), a range (``2026-12-24..2027-01-01``) or a
    list of them, each as written (YAML would turn a bare date into a date)."""
    items = node.value if isinstance(node, SequenceNode) else [node]
    found: list[DateRange] = []
    problems: list[Inner] = []
    for index, item in enumerate(items):
        suffix = f"[{index}]" if isinstance(node, SequenceNode) else ""
        try:
            if not isinstance(item, ScalarNode):
                raise InvalidSchedule(
                    "expected a date such as 2026-12-24 or a range such as "
                    f"2026-12-24..2027-01-01, got {doc.describe(item)}"
                )
            found.append(DateRange.parse(str(item.value)))
        except InvalidSchedule as error:
            problems.append(Inner(item, suffix, str(error)))
    if problems:
        raise NodeProblem(problems[0].message, problems)
    return tuple(found)


def holidays(doc: Document, node: Node) -> Holidays:
    """Read ``{country: DE, subdivision: BY}`` (or just ``DE``)."""
    try:
        return Holidays.parse(_json(doc, node))
    except InvalidSchedule as error:
        raise NodeProblem(str(error)) from None


def json_value(doc: Document, node: Node) -> Any:
    """Read any JSON value (a scalar, a list or a mapping); the job field checks its shape."""
    return _json(doc, node)


def optional(read: Reader) -> Reader:
    """``read``, but ``null`` (or nothing) reads as ``None``."""

    def maybe(doc: Document, node: Node) -> Any:
        return None if node.tag == NULL_TAG else read(doc, node)

    return maybe


def _scalar(doc: Document, node: Node) -> Any:
    if not isinstance(node, ScalarNode):
        return None  # matches no scalar type, so the caller describes the collection
    return doc.value(node)


def _expected(doc: Document, what: str, node: Node) -> NodeProblem:
    return NodeProblem(f"expected {what}, got {doc.describe(node)}")


#: The tags of the scalars a plain JSON collection holds.
_PLAIN_SCALARS = frozenset({STR_TAG, NULL_TAG, INT_TAG, FLOAT_TAG, BOOL_TAG})
#: What :func:`_plain` and :func:`_plain_collection` give for what they leave alone.
_NOT_PLAIN = object()


def _plain(doc: Document, node: Node) -> Any:
    """The value of a plain, untagged scalar of one of :data:`_PLAIN_SCALARS`
    (a float finite); :data:`_NOT_PLAIN` for any other node."""
    if type(node) is not ScalarNode or node.tag not in _PLAIN_SCALARS:
        return _NOT_PLAIN
    if node.tag == STR_TAG:
        return node.value
    try:
        value = doc.value(node)
    except NodeProblem:
        return _NOT_PLAIN
    return value if type(value) is not float or math.isfinite(value) else _NOT_PLAIN


def _plain_collection(doc: Document, node: Node) -> Any:
    """A list, or a mapping with string keys, of plain scalars (most ``args`` and
    ``kwargs``), each scalar read once; :data:`_NOT_PLAIN` for anything else,
    which the checking walk reads (and words the problems of)."""
    if type(node) is SequenceNode and node.tag == SEQ_TAG:
        items = [_plain(doc, item) for item in node.value]
        return _NOT_PLAIN if any(item is _NOT_PLAIN for item in items) else items
    if type(node) is not MappingNode or node.tag != MAP_TAG:
        return _NOT_PLAIN
    made: dict[str, Any] = {}
    for key, value in node.value:
        if type(key) is not ScalarNode or key.tag != STR_TAG:
            return _NOT_PLAIN  # a merge key, or a key that is not a string
        made[key.value] = read = _plain(doc, value)
        if read is _NOT_PLAIN:
            return _NOT_PLAIN
    return made


def _json(doc: Document, node: Node) -> Any:
    plain = _plain_collection(doc, node)
    if plain is not _NOT_PLAIN:
        return plain
    inner = list(_json_problems(doc, node, "", _Visits()))
    if inner:
        raise NodeProblem(inner[0].message, inner)
    return doc.value(node)


@dataclass(slots=True)
class _Visits:
    """Nodes being checked (to catch an alias inside itself) and nodes done (checked once)."""

    open: set[int] = field(default_factory=set)
    done: set[int] = field(default_factory=set)


def _json_problems(doc: Document, node: Node, path: str, visits: _Visits) -> Iterator[Inner]:
    """Every node at or below ``node`` that is not JSON."""
    if id(node) in visits.open:
        yield Inner(node, path, f"{_JSON_EXPECTED}, got an alias that contains itself")
    elif id(node) not in visits.done:
        visits.open.add(id(node))
        yield from _json_node(doc, node, path, visits)
        visits.open.discard(id(node))
        visits.done.add(id(node))


def _json_node(doc: Document, node: Node, path: str, visits: _Visits) -> Iterator[Inner]:
    if isinstance(node, ScalarNode):
        yield from _json_scalar(doc, node, path)
    elif node.tag not in (SEQ_TAG, MAP_TAG):  # !!set, !!omap, !!pairs
        yield Inner(node, path, f"{_JSON_EXPECTED}, got a value tagged {short_tag(node.tag)!r}")
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _json_problems(doc, item, f"{path}[{index}]", visits)
    elif isinstance(node, MappingNode):
        for entry in entries(node):
            if entry.key is None and entry.key_node.tag != MERGE_TAG:
                message = f"expected a string key, got {doc.describe(entry.key_node)}"
                yield Inner(entry.key_node, path, message)
            else:
                suffix = f"{path}.{entry.key_node.value}"
                yield from _json_problems(doc, entry.value, suffix, visits)


def _json_scalar(doc: Document, node: Node, path: str) -> Iterator[Inner]:
    try:
        value = doc.value(node)
    except NodeProblem as error:
        yield Inner(node, path, str(error))
        return
    finite = not isinstance(value, float) or math.isfinite(value)
    if finite and (value is None or isinstance(value, bool | int | float | str)):
        return
    message = f"{_JSON_EXPECTED}, got {doc.describe(node)}"
    yield Inner(node, path, f"{message}; quote it to pass a string")
