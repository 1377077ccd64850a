"""The Grafana dashboard and the alert rules query only what Tickwork exports, correctly.

promtool and Grafana are not needed: every expression goes through a real
PromQL parser, and its series, labels and functions are checked against the
metric list (tests/deploy/promql.py), which is the one docs/how-to/monitor.md
documents.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from .manifests import CONTRIB, REPO, load_all, load_json
from .promql import METRICS, metric_names, problems

DASHBOARD = CONTRIB / "grafana" / "tickwork-dashboard.json"
ALERTS = CONTRIB / "prometheus" / "alerts.yaml"
#: Grafana's variables, as Grafana substitutes them before it queries.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$job": ".*"}


def dashboard_queries() -> list[tuple[str, str]]:
    queries = []
    for panel in load_json(DASHBOARD)["panels"]:
        for target in panel.get("targets", []):
            expression = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expression = expression.replace(variable, value)
            queries.append((f"{panel['title']} {target['refId']}", expression))
    return queries


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load_all(ALERTS)[0]["groups"] for rule in group["rules"]]


@pytest.mark.parametrize(("where", "expression"), dashboard_queries(), ids=lambda v: str(v)[:60])
def test_dashboard_queries_read_tickwork_metrics_correctly(where: str, expression: str) -> None:
    assert problems(expression) == [], where


def test_the_dashboard_shows_what_the_guide_promises() -> None:
    dashboard = load_json(DASHBOARD)
    assert dashboard["uid"] == "tickwork"
    titles = " | ".join(panel["title"] for panel in dashboard["panels"])
    shown = ("by status", "Failure ratio per job", "p95 per job", "Lateness", "in flight",
             "backlog", "Store up", "since last heartbeat", "Jobs by state")  # fmt: skip
    for title in shown:
        assert title.lower() in titles.lower()
    read = set().union(*(metric_names(expression) for _, expression in dashboard_queries()))
    assert read == set(METRICS)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["job"]["definition"] == "label_values(tickwork_runs_total, job)"


def test_dashboard_panels_have_unique_ids_and_fit_the_grid() -> None:
    panels = load_json(DASHBOARD)["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_alert_rules_are_well_formed(rule: dict[str, Any]) -> None:
    assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}
    assert re.fullmatch(r"Tickwork[A-Z]\w+", rule["alert"])
    assert problems(rule["expr"]) == []
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["annotations"]["summary"]
    if "for" in rule:
        assert re.fullmatch(r"\d+[smh]", rule["for"])


def test_the_recommended_alerts_cover_each_failure_the_guide_names() -> None:
    rules = alert_rules()
    assert len({rule["alert"] for rule in rules}) == len(rules)
    watched = set().union(*(metric_names(rule["expr"]) for rule in rules))
    assert watched >= {
        "tickwork_last_heartbeat_timestamp_seconds",  # no heartbeat
        "tickwork_runs_total",  # failure rate, missed slots
        "tickwork_run_lateness_seconds",  # lateness p99
        "tickwork_due_backlog",  # backlog growing
        "tickwork_store_up",  # store down
        "tickwork_hook_errors_total",
        "tickwork_notifications_total",
    }
    down = next(rule for rule in rules if rule["alert"] == "TickworkSchedulerDown")
    assert "absent(tickwork_last_heartbeat_timestamp_seconds)" in down["expr"]


def test_the_monitoring_guide_lists_exactly_these_metrics() -> None:
    guide = (REPO / "docs" / "how-to" / "monitor.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(tickwork_\w+)`", guide, flags=re.MULTILINE))
    assert documented == set(METRICS)
    for name, metric in METRICS.items():
        row = next(line for line in guide.splitlines() if line.startswith(f"| `{name}`"))
        assert metric.kind in row, row


def test_the_metric_list_is_what_the_scheduler_exports() -> None:
    from scheduler.monitoring.metrics import Metrics

    exported = {}
    for family in Metrics().registry.collect():
        suffix = "_total" if family.type == "counter" else ""
        exported[family.name + suffix] = family.type
    documented = {name: metric.kind for name, metric in METRICS.items()}
    assert exported == documented
