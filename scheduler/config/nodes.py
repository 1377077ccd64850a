"""YAML read as a tree of nodes, so that every key and value keeps its position.

:mod:`scheduler.config` needs ``file:line:column`` for every problem and must
see duplicate keys, which ``yaml.safe_load`` silently collapses.  So the text is
only *composed* here, with PyYAML's safe loader, and values are built one node
at a time by its safe constructor, which refuses every Python-specific tag.

The *readers* of :mod:`.values` turn one value node into one typed Python
value, or raise :class:`NodeProblem` saying what was expected and what was found.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "BOOL_TAG",
    "FLOAT_TAG",
    "INT_TAG",
    "MAP_TAG",
    "MERGE_TAG",
    "MERGE_UNSUPPORTED",
    "NULL_TAG",
    "SEQ_TAG",
    "STR_TAG",
    "Document",
    "Entry",
    "Inner",
    "NodeProblem",
    "SyntaxProblem",
    "child_path",
    "describe_value",
    "duplicate_keys",
    "entries",
    "entry",
    "fast_loader",
    "key_problem",
    "position",
    "short_tag",
]

_CORE_PREFIX = "tag:yaml.org,2002:"
STR_TAG = _CORE_PREFIX + "str"
MERGE_TAG = _CORE_PREFIX + "merge"
NULL_TAG = _CORE_PREFIX + "null"
SEQ_TAG = _CORE_PREFIX + "seq"
MAP_TAG = _CORE_PREFIX + "map"
INT_TAG = _CORE_PREFIX + "int"
FLOAT_TAG = _CORE_PREFIX + "float"
BOOL_TAG = _CORE_PREFIX + "bool"
MERGE_UNSUPPORTED = "YAML merge keys ('<<') are not supported here; use 'defaults' instead"
_SYNTAX_HINT = "; quote values that start with '*', such as cron: \"*/5 * * * *\""
# Composing with libyaml is several times faster; the resolver and constructor
# stay PyYAML's safe ones either way.
_C_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FastLoader(_C_LOADER):  # type: ignore[misc,valid-type]
    """libyaml's safe loader, with each plain scalar's tag resolved once per text.

    PyYAML resolves every scalar with a row of regular expressions; in a file
    of 100,000 jobs the same keys and values (``task``, ``cron``, a task's
    name) come back hundreds of thousands of times.  The tag of a scalar
    depends only on its text and on whether it was quoted, so it is kept.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._tags: dict[tuple[str, tuple[bool, bool]], str] = {}

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        if kind is not ScalarNode or not isinstance(value, str):
            return str(super().resolve(kind, value, implicit))
        key = (value, tuple(implicit))
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag


def fast_loader(text: str) -> yaml.SafeLoader:
    """libyaml's safe loader over ``text``, resolving each distinct plain scalar's tag once."""
    return _FastLoader(text)


# What a scalar with a bad explicit tag (``!!int abc``, ``!!timestamp x``) raises
# inside PyYAML's constructors.
_CONSTRUCT_ERRORS = (yaml.YAMLError, ValueError, TypeError, AttributeError, OverflowError)


@dataclass(frozen=True, slots=True)
class Inner:
    """A problem inside a collection: the node, its path below the collection, the message."""

    node: Node
    suffix: str
    message: str


class SyntaxProblem(Exception):
    """Text that is not YAML; ``args`` are the 1-based line and column, and the message."""


class NodeProblem(Exception):
    """A node that is not what was expected; the message says ``expected ..., got ...``.

    For a collection, ``inner`` locates each bad item instead.
    """

    def __init__(self, message: str, inner: Sequence[Inner] = ()) -> None:
        super().__init__(message)
        self.inner = tuple(inner)


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``key: value`` pair of a mapping node; ``key`` is ``None`` unless a plain string."""

    key: str | None
    key_node: Node
    value: Node


def position(node: Node) -> tuple[int, int]:
    """The 1-based (line, column) at which ``node`` starts."""
    mark = node.start_mark
    return mark.line + 1, mark.column + 1


def child_path(path: str, key: str | int) -> str:
    """The key path of a child: ``jobs.nightly`` for a key, ``args[0]`` for an index."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def entries(node: MappingNode) -> list[Entry]:
    """The pairs of a mapping node, in file order, duplicates included."""
    return [Entry(_string_key(key), key, value) for key, value in node.value]


def entry(key: Node, value: Node) -> Entry:
    """The pair ``key: value`` of a mapping node as an :class:`Entry`."""
    return Entry(_string_key(key), key, value)


def duplicate_keys(root: Node, path: str = "") -> Iterator[tuple[Node, Node, str]]:
    """Every repeated key in the tree as (repeated key node, first key node, key
    path), ``root`` being at ``path``."""
    seen: set[int] = set()
    pending: list[tuple[Node, str]] = [(root, path)]
    while pending:
        node, path = pending.pop()
        if id(node) in seen:  # an alias: checked where its anchor is
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            pending.extend((item, child_path(path, i)) for i, item in enumerate(node.value))
        elif isinstance(node, MappingNode):
            yield from _repeats(node, path)
            pending.extend((value, child_path(path, key.value)) for key, value in node.value)


def _repeats(node: MappingNode, path: str) -> Iterator[tuple[Node, Node, str]]:
    first: dict[tuple[str, str], Node] = {}
    for key, _ in node.value:
        if not isinstance(key, ScalarNode) or key.tag == MERGE_TAG:
            continue
        earlier = first.setdefault((key.tag, key.value), key)
        if earlier is not key:
            yield key, earlier, child_path(path, key.value)


def _string_key(node: Node) -> str | None:
    if isinstance(node, ScalarNode) and node.tag == STR_TAG:
        return str(node.value)
    return None


class Document:
    """One YAML document: its node tree and PyYAML's safe constructor for values."""

    def __init__(self, text: str) -> None:
        self._text = text
        # Never used to read, only to build values of nodes already composed.
        self._loader = yaml.SafeLoader("")

    def root(self) -> Node | None:
        """The root node, or ``None`` for an empty document; raises :class:`SyntaxProblem`."""
        try:
            return _compose(_FastLoader, self._text)
        except yaml.YAMLError:
            pass
        # libyaml words its errors differently; report PyYAML's, which are documented.
        try:
            return _compose(yaml.SafeLoader, self._text)
        except yaml.YAMLError as error:
            raise SyntaxProblem(*_syntax(error, self._text)) from None

    def value(self, node: Node) -> Any:
        """The Python value of ``node`` (safe tags only); raises :class:`NodeProblem`."""
        if node.tag == STR_TAG and type(node) is ScalarNode:
            return node.value  # what the constructor gives a string, without it
        loader = self._loader
        try:
            return loader.construct_object(node, deep=True)
        except _CONSTRUCT_ERRORS:
            what = repr(node.value) if isinstance(node, ScalarNode) else "a value"
            raise NodeProblem(f"cannot read {what} tagged {short_tag(node.tag)!r}") from None
        finally:
            # The constructor keeps every node it built a value of, and the
            # value: forgotten here, so a job's nodes are freed once it is read.
            loader.constructed_objects.clear()
            loader.recursive_objects.clear()

    def describe(self, node: Node) -> str:
        """What ``node`` holds, in words for a message: ``the integer 3``, ``a list``."""
        if isinstance(node, SequenceNode):
            return "a list"
        if isinstance(node, MappingNode):
            return "a mapping"
        try:
            return describe_value(self.value(node))
        except NodeProblem:
            return f"a value tagged {short_tag(node.tag)!r}"


def short_tag(tag: str) -> str:
    """``tag`` as YAML writes it: ``!!int`` for ``tag:yaml.org,2002:int``."""
    return tag.replace(_CORE_PREFIX, "!!")


def _compose(
    loader_class: type[yaml.SafeLoader] | type[yaml.CSafeLoader] | type[_FastLoader], text: str
) -> Node | None:
    loader = loader_class(text)  # the pure-Python reader checks the characters at once
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def key_problem(entry: Entry, allowed: Sequence[str], doc: Document) -> str | None:
    """Why ``entry``'s key is not one of ``allowed`` (with a suggestion), or ``None``."""
    if entry.key is None:
        if entry.key_node.tag == MERGE_TAG:
            return MERGE_UNSUPPORTED
        return f"expected a string key, got {doc.describe(entry.key_node)}"
    if entry.key in allowed:
        return None
    close = difflib.get_close_matches(entry.key, allowed, n=1)
    if close:
        return f"unknown key {entry.key!r}; did you mean {close[0]!r}?"
    return f"unknown key {entry.key!r}; expected one of: {', '.join(allowed)}"


def _syntax(error: yaml.YAMLError, text: str) -> tuple[int, int, str]:
    mark = getattr(error, "problem_mark", None)
    if mark is None:  # a character the reader refuses: only its offset is known
        offset = getattr(error, "position", 0)
        line_start = text.rfind("\n", 0, offset) + 1
        reason = getattr(error, "reason", str(error))
        character = f"#x{getattr(error, 'character', 0):04x}"
        message = f"invalid YAML: unacceptable character {character}: {reason}"
        return text.count("\n", 0, offset) + 1, offset - line_start + 1, message
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None) or ""
    if context.startswith("while"):
        message = f"invalid YAML: {problem} ({context})"
    else:  # the context states what was expected, the problem what was found
        message = f"invalid YAML: {', '.join(filter(None, (context, problem)))}"
    hint = _SYNTAX_HINT if "alias" in context else ""
    return mark.line + 1, mark.column + 1, message + hint


def describe_value(value: object) -> str:
    """``value`` in words, spelled the way YAML writes it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        kind = "integer" if isinstance(value, int) else "number"
        return f"the {kind} {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, datetime):
        naive = "" if value.utcoffset() is not None else " with no UTC offset"
        return f"the date and time {value.isoformat()}{naive}"
    if isinstance(value, date):
        return f"the date {value.isoformat()} with no time"
    return f"a value of type {type(value).__name__}"
