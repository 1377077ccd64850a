"""Reading a schedules file as a stream of jobs, a job's nodes at a time.

The file's own keys before ``jobs`` are composed whole and read as
:class:`~.document.TreeReader` reads them; then each entry of ``jobs`` is
composed, checked for repeated keys and read, and its nodes are freed.  The
issues found, their positions and their messages are the tree reader's.
A file this reader does not handle raises :class:`~.stream.Unusual` (or a
:class:`yaml.YAMLError`), and the caller reads it with the tree reader.

With a :class:`~.memo.ReadMemo`, a job whose entry and context are those of a
job the last good read found is that job again, not composed nor built.
"""

from __future__ import annotations

from yaml.events import MappingStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode

from ..model.jobs import JobSpec
from .document import TreeReader, duplicate_message
from .keys import TOP_KEYS
from .memo import ReadMemo, Remembered
from .nodes import (
    MAP_TAG,
    MERGE_TAG,
    STR_TAG,
    Document,
    child_path,
    duplicate_keys,
    entries,
    entry,
    position,
)
from .stream import Event, EventStream, Unusual, compose
from .walker import Setting

__all__ = ["StreamReader"]


class StreamReader(TreeReader):
    """Reads ``text`` as :class:`TreeReader` does, streaming the jobs."""

    def __init__(self, text: str, filename: str, default_zone: str, memo: ReadMemo | None) -> None:
        super().__init__(Document(text), filename, default_zone)
        self.text = text
        self.memo = memo
        self._names: dict[tuple[str, str], int] = {}  # each job name's (tag, text): its line

    def read(self) -> list[JobSpec]:
        stream = EventStream(self.text)
        try:
            specs = self._read(stream)
            stream.end()
        finally:
            stream.close()
        return self.chained(specs)

    def _read(self, stream: EventStream) -> list[JobSpec]:
        start = stream.begin()
        pairs, jobs_start = self._top(stream)
        jobs_key = pairs[-1][0]
        root = MappingNode(MAP_TAG, pairs, start.start_mark, jobs_key.end_mark)
        for repeated, first, path in duplicate_keys(root):
            self.walker.issue(repeated, path, duplicate_message(repeated.value, position(first)[0]))
        zone, defaults = self.context(self.walker.known(entries(root), TOP_KEYS, ""))
        context = None
        if self.memo is not None:
            before = self.text[: jobs_start.start_mark.index]
            context = ReadMemo.context(before, self.default_zone, jobs_start.flow_style)
        specs: list[JobSpec] = []
        while (events := stream.entry()) is not None:
            spec = self._job(events, stream, zone, defaults, context)
            if spec is not None:
                specs.append(spec)
        return specs

    def _top(self, stream: EventStream) -> tuple[list[tuple[Node, Node]], Event]:
        """The top-level entries up to ``jobs`` (whose value is left empty), and
        the event that starts the ``jobs`` mapping."""
        pairs: list[tuple[Node, Node]] = []
        for first in stream:
            key = compose(first, stream, stream.resolve)
            if isinstance(key, ScalarNode) and key.value == "jobs":
                value: Event = next(stream)
                if key.tag != STR_TAG or type(value) is not MappingStartEvent or value.tag:
                    raise Unusual("jobs that are not a plain mapping")
                mark: Event = value.start_mark  # libyaml's Mark, typed apart from a node's
                pairs.append((key, MappingNode(MAP_TAG, [], mark, mark)))
                return pairs, value
            pairs.append((key, compose(next(stream), stream, stream.resolve)))
        raise Unusual("no jobs")  # pragma: no cover - the stream raises at its end

    def _job(
        self,
        events: list[Event],
        stream: EventStream,
        zone: str,
        defaults: dict[str, Setting],
        context: object,
    ) -> JobSpec | None:
        head = events[0]
        digest = None
        if self.memo is not None:
            begin, end = head.start_mark.index, events[-1].end_mark.index
            digest = ReadMemo.digest(context, head.start_mark.column, self.text[begin:end])
            known = self.memo.recall(digest)
            if known is not None:
                return self._recalled(head, stream, known)
        rest = iter(events)
        key = compose(next(rest), rest, stream.resolve)
        value = compose(next(rest), rest, stream.resolve)
        path = self._check_name(key.tag, key.value, position(key))
        for repeated, first, where in duplicate_keys(value, path):
            message = duplicate_message(repeated.value, position(first)[0])
            self.walker.issue(repeated, where, message)
        before = len(self.walker.issues)
        spec = self.jobs.job(entry(key, value), zone, defaults)
        if self.memo is not None and digest and spec and len(self.walker.issues) == before:
            line = position(key)[0]
            remembered = Remembered(
                spec, line, self.jobs.locations[spec.name], self.jobs.declared[spec.name]
            )
            self.memo.keep(digest, remembered)
        return spec

    def _recalled(self, head: Event, stream: EventStream, known: Remembered) -> JobSpec:
        tag = head.tag
        if tag is None or tag == "!":
            tag = stream.resolve(ScalarNode, head.value, head.implicit)
        mark = head.start_mark
        self._check_name(tag, head.value, (mark.line + 1, mark.column + 1))
        name = known.spec.name
        self.jobs.locations[name] = known.located(mark.line + 1)
        self.jobs.declared[name] = known.declared
        return known.spec

    def _check_name(self, tag: str, name: str, where: tuple[int, int]) -> str:
        """The key path of the job named by the scalar ``name`` (tagged ``tag``,
        at ``where``); a name given before is an issue, as in the tree."""
        path = child_path("jobs", name)
        if tag != MERGE_TAG:
            first = self._names.get((tag, name))
            if first is None:
                self._names[tag, name] = where[0]
            else:
                self.walker.issue_at(*where, path, duplicate_message(name, first))
        return path
