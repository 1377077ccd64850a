"""Walking a schedules file's nodes: each value read and checked, each problem recorded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from yaml.nodes import MappingNode, Node

from ..errors import ConfigIssue, SchedulerError
from ..model.jobs import validate_field
from .keys import READERS, SPEC_FIELDS
from .nodes import (
    NULL_TAG,
    Document,
    Entry,
    Inner,
    NodeProblem,
    child_path,
    entries,
    key_problem,
    position,
)

__all__ = ["Setting", "Walker"]


@dataclass(frozen=True, slots=True)
class Setting:
    """A checked value and where it was written (its node and key path)."""

    value: Any
    node: Node
    path: str


class Walker:
    """Reads the values of one document's keys, and records every issue found, located.

    Nothing is raised for a bad value: it is recorded in :attr:`issues` and
    read as missing, so one pass finds every problem in the file.
    """

    def __init__(self, doc: Document, filename: str) -> None:
        self.doc = doc
        self.filename = filename
        self.issues: list[ConfigIssue] = []

    def issue(self, node: Node, path: str, message: str) -> None:
        """Record a problem with ``node``, at key path ``path``."""
        self.issue_at(*position(node), path, message)

    def issue_at(self, line: int, column: int, path: str, message: str) -> None:
        """Record a problem at ``line`` and ``column`` (1-based)."""
        issue = ConfigIssue(
            file=self.filename, line=line, column=column, path=path, message=message
        )
        self.issues.append(issue)

    def mapping(self, node: Node, path: str, what: str) -> list[Entry] | None:
        """The entries of ``node`` if it is a mapping; ``None`` and an issue if not."""
        if isinstance(node, MappingNode):
            return entries(node)
        self.issue(node, path, f"expected {what}, got {self.doc.describe(node)}")
        return None

    def is_null(self, node: Node) -> bool:
        """Whether ``node`` is ``null`` (or nothing)."""
        return node.tag == NULL_TAG

    def known(
        self, pairs: Iterable[Entry], allowed: tuple[str, ...], path: str
    ) -> dict[str, Entry]:
        """The entries whose key is allowed (the last of repeated ones); others are issues."""
        found: dict[str, Entry] = {}
        for entry in pairs:
            message = key_problem(entry, allowed, self.doc)
            if message is None:
                assert entry.key is not None  # noqa: S101 - key_problem checked it
                found[entry.key] = entry
            else:
                self.issue(entry.key_node, child_path(path, str(entry.key_node.value)), message)
        return found

    def settings(self, known: Mapping[str, Entry], path: str) -> dict[str, Setting]:
        """The good values of ``known``, each read and checked."""
        checked = {
            key: self.setting(key, entry, child_path(path, key)) for key, entry in known.items()
        }
        return {key: setting for key, setting in checked.items() if setting is not None}

    def setting(self, key: str, entry: Entry, path: str) -> Setting | None:
        """The value of ``entry`` read as ``key`` reads, checked as the job field
        ``key``; ``None`` (and the issues recorded) if it is not good."""
        node = entry.value
        try:
            value = READERS[key](self.doc, node)
            if key in SPEC_FIELDS:
                value = validate_field(key, value)
        except NodeProblem as problem:
            for inner in problem.inner or [Inner(node, "", str(problem))]:
                self.issue(inner.node, path + inner.suffix, inner.message)
            return None
        except SchedulerError as error:
            self.issue(node, path, str(error))
            return None
        return Setting(value, node, path)
