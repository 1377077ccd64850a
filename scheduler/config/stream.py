"""A YAML text read as a stream of parser events, composed into nodes one job at a time.

The whole-tree reader (:meth:`.nodes.Document.root`) composes every node of
the file before the first job is read: for 100,000 jobs that is over a
million nodes alive at once.  Here libyaml's parser gives events, and the
nodes of one job's entry are composed only when they are needed, the same
nodes the tree would hold (tags resolved the same way, the same marks).

Anything this path does not handle, it refuses with :class:`Unusual`, and
the caller reads the whole tree instead, which reports what the file says
exactly as before: anchors and aliases, a root that is not a mapping, a
``jobs`` that is not the last top-level key, more than one document.  A
syntax error surfaces as PyYAML's :class:`yaml.YAMLError`, to the same end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeAlias

from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .nodes import fast_loader

__all__ = ["Event", "EventStream", "Unusual", "compose"]

#: One of libyaml's parser events (untyped: the stubs type their marks unlike a node's).
Event: TypeAlias = Any

_OPENS = frozenset({MappingStartEvent, SequenceStartEvent})
_CLOSES = frozenset({MappingEndEvent, SequenceEndEvent})


class Unusual(Exception):
    """A text the streaming reader leaves to the whole-tree reader; says why."""


class EventStream:
    """The events of one text, refusing anchors and aliases (:class:`Unusual`).

    Iterating gives the events one by one; :meth:`entry` gathers the events
    of one mapping entry, key and value.
    """

    def __init__(self, text: str) -> None:
        self._loader = fast_loader(text)
        self.resolve: Any = self._loader.resolve

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        event: Event = self._loader.get_event()  # type: ignore[no-untyped-call]
        if event is None:
            raise Unusual("the text ended early")
        if type(event) is AliasEvent or getattr(event, "anchor", None) is not None:
            raise Unusual("anchors and aliases")
        return event

    def close(self) -> None:
        """Free libyaml's parser."""
        self._loader.dispose()

    def expect(self, *kinds: type) -> Event:
        """The next event, which must be of one of ``kinds``."""
        event = next(self)
        if not isinstance(event, kinds):
            raise Unusual(f"{type(event).__name__} where {kinds[0].__name__} was expected")
        return event

    def begin(self) -> Event:
        """Read up to the root mapping's start (only a plain mapping streams)."""
        self.expect(StreamStartEvent)
        self.expect(DocumentStartEvent)
        root = self.expect(MappingStartEvent)
        if root.tag not in (None, "!"):
            raise Unusual("a tagged root")
        return root

    def end(self) -> None:
        """Read past the root mapping's end: one document, and nothing after it."""
        self.expect(MappingEndEvent)
        self.expect(DocumentEndEvent)
        self.expect(StreamEndEvent)

    def entry(self) -> list[Event] | None:
        """The events of the next entry of the mapping being read, key and value
        (the key a scalar), or ``None`` at the mapping's end."""
        # The loop of every read, once per event: written for speed.
        get: Any = self._loader.get_event
        first = get()
        kind = type(first)
        if kind is MappingEndEvent:
            return None
        if kind is not ScalarEvent or first.anchor is not None:
            raise Unusual("a key that is not a plain scalar")
        events: list[Event] = [first]
        depth = 0
        while True:
            event = get()
            kind = type(event)
            if kind in _OPENS:
                depth += 1
            elif kind in _CLOSES:
                depth -= 1
            elif kind is not ScalarEvent:  # an alias, or the text's end
                raise Unusual(f"{kind.__name__} in a job")
            if kind not in _CLOSES and event.anchor is not None:
                raise Unusual("anchors and aliases")
            events.append(event)
            if depth == 0:
                return events


def compose(first: Event, rest: Iterator[Event], resolve: Any) -> Node:
    """The node that starts with the event ``first``, its children read from
    ``rest``, tags resolved by ``resolve`` as PyYAML's composer does."""
    kind = type(first)
    tag = getattr(first, "tag", None)
    if kind is ScalarEvent:
        if tag is None or tag == "!":
            tag = resolve(ScalarNode, first.value, first.implicit)
        return ScalarNode(
            tag,
            first.value,
            first.start_mark,
            first.end_mark,
            style=first.style,
        )
    if kind is SequenceStartEvent:
        if tag is None or tag == "!":
            tag = resolve(SequenceNode, None, first.implicit)
        items: list[Node] = []
        node: Node = SequenceNode(tag, items, first.start_mark, None, first.flow_style)
        for event in rest:
            if type(event) is SequenceEndEvent:
                node.end_mark = event.end_mark
                return node
            items.append(compose(event, rest, resolve))
    elif kind is MappingStartEvent:
        if tag is None or tag == "!":
            tag = resolve(MappingNode, None, first.implicit)
        pairs: list[tuple[Node, Node]] = []
        node = MappingNode(tag, pairs, first.start_mark, None, first.flow_style)
        for event in rest:
            if type(event) is MappingEndEvent:
                node.end_mark = event.end_mark
                return node
            key = compose(event, rest, resolve)
            pairs.append((key, compose(next(rest), rest, resolve)))
    raise Unusual(f"{kind.__name__} where a node was expected")
