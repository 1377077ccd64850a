"""Tickwork's metric names, and a check of PromQL expressions against them.

Expressions are parsed by a real PromQL parser (``promql-parser``, the Rust
parser that GreptimeDB uses), so a syntax error fails as it would in
Prometheus; then every series, label and function is checked against the
metrics that the scheduler exports.
"""

from __future__ import annotations

from dataclasses import dataclass

import promql_parser as promql


@dataclass(frozen=True, slots=True)
class Metric:
    kind: str  # counter, gauge or histogram
    labels: frozenset[str] = frozenset()


def _metric(kind: str, *labels: str) -> Metric:
    return Metric(kind, frozenset(labels))


#: What a Tickwork scheduler exports on /metrics (docs/how-to/monitor.md).
METRICS = {
    "tickwork_runs_total": _metric("counter", "job", "status"),
    "tickwork_run_duration_seconds": _metric("histogram", "job"),
    "tickwork_run_lateness_seconds": _metric("histogram"),
    "tickwork_runs_in_flight": _metric("gauge"),
    "tickwork_claim_seconds": _metric("histogram"),
    "tickwork_commit_batch_size": _metric("histogram"),
    "tickwork_due_backlog": _metric("gauge"),
    "tickwork_store_up": _metric("gauge"),
    "tickwork_last_heartbeat_timestamp_seconds": _metric("gauge"),
    "tickwork_jobs": _metric("gauge", "state"),
    "tickwork_hook_errors_total": _metric("counter"),
    "tickwork_notifications_total": _metric("counter", "notifier", "outcome"),
}
#: Labels that Prometheus attaches to every scraped series.
TARGET_LABELS = frozenset({"instance"})
_HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")
_OVER_COUNTERS = frozenset({"rate", "irate", "increase"})


def series(name: str) -> tuple[str, Metric, str]:
    """``(metric name, metric, suffix)`` of a series name; KeyError for an unknown one."""
    for suffix in _HISTOGRAM_SERIES:
        base = name.removesuffix(suffix)
        if base != name and METRICS.get(base, Metric("")).kind == "histogram":
            return base, METRICS[base], suffix
    return name, METRICS[name], ""


def problems(expression: str) -> list[str]:
    """What is wrong with ``expression`` as a query of Tickwork's metrics (empty: nothing)."""
    try:
        tree = promql.parse(expression)
    except ValueError as error:
        return [f"does not parse: {error}"]
    found: list[str] = []

    def visit(node: promql.Expr) -> bool:
        if isinstance(node, promql.VectorSelector):
            found.extend(_selector_problems(node))
        elif isinstance(node, promql.Call):
            found.extend(_call_problems(node))
        elif isinstance(node, promql.AggregateExpr):
            found.extend(_grouping_problems(node))
        return True

    promql.walk(tree, visit)
    return found


def metric_names(expression: str) -> set[str]:
    """The Tickwork metrics that ``expression`` reads."""
    return {known[0] for s in _selectors(promql.parse(expression)) if (known := _known(s))}


def _known(selector: promql.VectorSelector) -> tuple[str, Metric, str] | None:
    try:
        return series(selector.name or "")
    except KeyError:
        return None


def _selectors(tree: promql.Expr) -> list[promql.VectorSelector]:
    found: list[promql.VectorSelector] = []
    promql.walk(tree, lambda n: found.append(n) if isinstance(n, promql.VectorSelector) else None)
    return found


def _selector_problems(node: promql.VectorSelector) -> list[str]:
    if node.name == "up":  # Prometheus' own series of each target
        return []
    try:
        base, metric, suffix = series(node.name or "")
    except KeyError:
        return [f"{node.name!r} is not a Tickwork metric"]
    labels = metric.labels | TARGET_LABELS | ({"le"} if suffix == "_bucket" else set())
    return [
        f"{base} has no label {matcher.name!r}"
        for matcher in node.matchers.matchers
        if matcher.name not in labels
    ]


def _call_problems(node: promql.Call) -> list[str]:
    name = node.func.name
    found = []
    for selector in (s for arg in node.args for s in _selectors(arg)):
        if (known := _known(selector)) is None:
            continue  # not Tickwork's, or unknown: reported as a selector
        _, metric, suffix = known
        if name in _OVER_COUNTERS and metric.kind == "gauge":
            found.append(f"{name}() of the gauge {selector.name}")
        if name == "histogram_quantile" and suffix != "_bucket":
            found.append(f"histogram_quantile() of {selector.name}, not of a _bucket series")
    return found


def _grouping_problems(node: promql.AggregateExpr) -> list[str]:
    modifier = node.modifier
    if modifier is None or modifier.type != promql.AggModifierType.By:
        return []
    available = set(TARGET_LABELS)
    for known in filter(None, map(_known, _selectors(node.expr))):
        _, metric, suffix = known
        available |= metric.labels | ({"le"} if suffix == "_bucket" else set())
    missing = set(modifier.labels) - available
    return [f"{node.op} by {sorted(missing)}: no such label under it"] if missing else []
