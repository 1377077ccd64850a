"""``args`` and ``kwargs`` of a schedules file: the plain ones are read in one
pass, and read exactly as the checking walk reads every other value."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from scheduler.config.nodes import Document, NodeProblem
from scheduler.config.values import _json_problems, _Visits, json_list, json_mapping

# Scalars as a file writes them: plain, quoted, tagged, odd and not JSON at all.
SCALARS = st.sampled_from([
    "1", "-7", "0x1f", "1_000", "2.5", "1e3", ".inf", "-.inf", ".nan", "true", "no", "null",
    "~", "''", "'x'", '"y z"', "word", "2026-01-01", "2026-01-01 10:00:00", "!!int 3",
    "!!str 4", "!!float x", "!!binary aGk=", "[1, 2]", "{a: 1}", "[]", "{}",
])  # fmt: skip
KEYS = st.sampled_from(["a", "b", "'c'", "1", "true", "null", "<<", "2026-01-01", "'<<'"])


def _by_the_walk(text: str) -> Any:
    """What the checking walk gives: the problems, or PyYAML's constructed value
    (of its own nodes: constructing a merge key changes them)."""
    doc = Document(text)
    node = doc.root()
    inner = list(_json_problems(doc, node, "", _Visits()))
    if inner:
        return ("problems", [(problem.suffix, problem.message) for problem in inner])
    try:
        return ("value", doc.value(node))
    except NodeProblem as problem:
        return ("problems", [("", str(problem))])


def _read(reader: Any, text: str) -> Any:
    doc = Document(text)
    node = doc.root()
    try:
        return ("value", reader(doc, node))
    except NodeProblem as problem:
        found = problem.inner or []
        return (
            "problems",
            [(inner.suffix, inner.message) for inner in found] or [("", str(problem))],
        )


@given(st.lists(st.tuples(KEYS, SCALARS), max_size=4))
def test_a_mapping_reads_as_the_checking_walk_reads_it(pairs: list[tuple[str, str]]) -> None:
    text = "{" + ", ".join(f"{key}: {value}" for key, value in pairs) + "}"
    assert _read(json_mapping, text) == _by_the_walk(text), text


@given(st.lists(SCALARS, max_size=4))
def test_a_list_reads_as_the_checking_walk_reads_it(items: list[str]) -> None:
    text = "[" + ", ".join(items) + "]"
    assert _read(json_list, text) == _by_the_walk(text), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{n: 1, s: x, f: 2.5, t: true, z: null, n: 2}",
         {"n": 2, "s": "x", "f": 2.5, "t": True, "z": None}),
        ("[1, x, 2.5, false, ~]", [1, "x", 2.5, False, None]),
    ],
)  # fmt: skip
def test_plain_values_keep_their_types_and_the_last_repeated_key(text: str, expected: Any) -> None:
    doc = Document(text)
    node = doc.root()
    read = json_mapping(doc, node) if isinstance(expected, dict) else json_list(doc, node)
    assert read == expected and [type(v) for v in _values(read)] == [
        type(v) for v in _values(expected)
    ]
    assert read == yaml.safe_load(text)


def _values(value: Any) -> list[Any]:
    return list(value.values()) if isinstance(value, dict) else list(value)
