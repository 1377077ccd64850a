"""Markdown tables from a benchmark run's JSON (``benchmarks/results/latest.json``).

python -m benchmarks.report benchmarks/results/latest.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .common import LABELS, SYSTEMS

Case = dict[str, Any]


def _n(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _rate(value: float | None) -> str:
    return _n(value, 1 if value is not None and value < 10 else 0)


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def _table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _cases(document: dict[str, Any], workload: str) -> list[Case]:
    return list(document.get("workloads", {}).get(workload, {}).get("cases", []))


def _by_system(cases: list[Case]) -> dict[str, dict[int, Case]]:
    grouped: dict[str, dict[int, Case]] = {}
    for case in cases:
        grouped.setdefault(case["system"], {})[case["jobs"]] = case
    return {system: grouped[system] for system in SYSTEMS if system in grouped}


def _sizes(cases: list[Case]) -> list[int]:
    return sorted({case["jobs"] for case in cases})


def _grid(cases: list[Case], cell: Callable[[Case], str], first: str = "System") -> list[str]:
    sizes = _sizes(cases)
    rows = [
        [LABELS[system], *[cell(by_size[size]) if size in by_size else "-" for size in sizes]]
        for system, by_size in _by_system(cases).items()
    ]
    return _table([first, *[f"{size:,} jobs" for size in sizes]], rows)


def _problem(case: Case) -> str | None:
    status = case.get("status")
    if status in ("error", "not measured"):
        return f"{status}: {case.get('reason', '')}"
    return None


def _herd_cell(case: Case) -> str:
    problem = _problem(case)
    if problem:
        return problem
    rate = _rate(case.get("runs_per_second"))
    if case["status"] == "complete":
        text = f"{_seconds(case['seconds'])} ({rate}/s)"
        if case.get("from_claim_seconds") is not None:
            text += f", {_seconds(case['from_claim_seconds'])} from its wake-up"
    else:
        text = (
            f"cut at {case['budget_seconds']:g} s: {_n(case['handed_over'])} handed over ({rate}/s)"
        )
    missed = case.get("runs_missed")
    if missed:
        text += f"; {_n(missed)} of them dropped as missed"
    return text


def herd(document: dict[str, Any]) -> list[str]:
    cases = _cases(document, "herd")
    if not cases:
        return []
    lines = [
        "### 1. Thundering herd: N jobs on `* * * * *` due at once",
        "",
        "Time from the due instant until the last run was handed over (runs per second),",
        "and from the start of the wake-up that handed the first run over (Tickwork's claim).",
        "",
        *_grid(cases, _herd_cell),
        *_herd_notes(cases),
    ]
    return lines + floor_ratios(document)


def _herd_notes(cases: list[Case]) -> list[str]:
    """What a scheduler that saves at its next sync had saved when the last run was published."""
    notes = []
    for case in cases:
        recorded, handed = case.get("recorded"), case.get("handed_over")
        if "syncs" not in case or recorded is None or handed is None or recorded >= handed:
            continue
        text = (
            f"- {LABELS[case['system']]}, {case['jobs']:,} jobs: when the last run was "
            f"handed over, the database showed {recorded:,} of {handed:,}"
        )
        after = case.get("recorded_after_stop")
        if after is not None:
            sync = _seconds(case.get("last_sync_seconds"))
            text += f"; stopping the scheduler wrote the rest ({sync})"
        notes.append(text + ".")
    return [*notes, ""] if notes else []


def floor_ratios(document: dict[str, Any]) -> list[str]:
    inserts = document.get("workloads", {}).get("floor", {}).get("inserts", [])
    floors = {(row["database"], row["rows"]): row for row in inserts}
    rows = []
    for case in _cases(document, "herd"):
        database = case["system"].removeprefix("tickwork-")
        floor = floors.get((database, case["jobs"]))
        if not case["system"].startswith("tickwork") or floor is None:
            continue
        if case.get("status") != "complete":
            continue
        seconds = case["seconds"]
        copy = floor.get("copy_seconds")
        rows.append(
            [
                LABELS[case["system"]],
                f"{case['jobs']:,}",
                _seconds(seconds),
                _seconds(floor["executemany_seconds"]),
                f"{seconds / floor['executemany_seconds']:.1f}x",
                _seconds(copy) if copy else "-",
                f"{seconds / copy:.1f}x" if copy else "-",
            ]
        )
    if not rows:
        return []
    header = ["Tickwork", "Jobs", "Herd", "Floor: executemany", "Ratio", "Floor: COPY", "Ratio"]
    return ["Tickwork's herd as a multiple of the floor (workload 6):", "", *_table(header, rows)]


def _startup_cell(case: Case) -> str:
    problem = _problem(case)
    if problem:
        return problem
    started = case.get("startup", {})
    if case.get("status") != "complete":
        return f"not ready within {case.get('budget_seconds', '?')} s"
    return (
        f"{_seconds(started['seconds'])} ({_seconds(started['seconds_after_imports'])} "
        f"after imports), {_n(started['peak_rss_mib'])} MiB"
    )


def _idle_cell(case: Case) -> str:
    problem = _problem(case)
    if problem:
        return problem
    idle = case.get("idle") or {}
    if not idle:
        return "-"
    return (
        f"{idle['cpu_seconds_per_minute']:.2f} CPU s, {_n(idle['statements_per_minute'])} "
        f"statements, {_n(idle['wakeups_per_minute'])} wake-ups"
    )


def startup_and_idle(document: dict[str, Any]) -> list[str]:
    cases = _cases(document, "startup")
    if not cases:
        return []
    return [
        "### 2. Idle: per minute, N jobs none due within the hour",
        "",
        *_grid(cases, _idle_cell),
        "### 3. Start-up: launch to first wake-up done, and peak memory (RSS)",
        "",
        *_grid(cases, _startup_cell),
    ]


def lateness(document: dict[str, Any]) -> list[str]:
    cases = _cases(document, "lateness")
    if not cases:
        return []
    rows = []
    for case in cases:
        problem = _problem(case)
        if problem:
            rows.append([LABELS[case["system"]], problem, "", "", "", ""])
            continue
        rows.append(
            [
                LABELS[case["system"]],
                _n(case["p50_ms"], 1),
                _n(case["p99_ms"], 1),
                _n(case["max_ms"], 1),
                f"{case['handed_over']} of {case['runs_measured']}",
                f"{case['jobs']:,} every {case['period_seconds']} s",
            ]
        )
    header = ["System", "p50 ms", "p99 ms", "max ms", "Runs handed over", "Jobs"]
    return [
        "### 4. Lateness: handed over minus slot",
        "",
        *_table(header, rows),
    ]


def steady(document: dict[str, Any]) -> list[str]:
    cases = _cases(document, "steady")
    if not cases:
        return []
    rows = []
    for case in cases:
        where = f"{case['jobs']:,} jobs, {case.get('executor', '?')}"
        problem = case.get("reason") if case.get("status") in ("error", "not measured") else None
        if problem:
            rows.append([where, problem, "", "", "", ""])
            continue
        windows = case["lateness_windows"]
        rows.append(
            [
                where,
                f"{case['finished_runs_per_second']} of {case['offered_runs_per_second']}",
                f"{case['rows_by_status'].get('succeeded', 0):,} of {case['slots_due']:,}",
                " / ".join(_n(w["p50_ms"], 0) for w in windows),
                " / ".join(_n(w["p99_ms"], 0) for w in windows),
                _n(case["cpu_seconds_per_run_ms"], 2),
            ]
        )
    header = [
        "Case",
        "Runs/s finished",
        "Succeeded rows of slots due",
        "p50 ms per window",
        "p99 ms per window",
        "CPU ms/run",
    ]
    return ["### 8. Steady state: jobs due once a minute, executed", "", *_table(header, rows)]


def edit(document: dict[str, Any]) -> list[str]:
    cases = _cases(document, "edit")
    if not cases:
        return []
    rows = []
    for case in cases:
        problem = _problem(case)
        if problem:
            rows.append([LABELS[case["system"]], problem, "", "", ""])
            continue
        used = f"{case['used']} of {case['edits']}"
        if case["used"] < case["edits"]:
            used += f" (not within {case['budget_seconds']:g} s)"
        rows.append(
            [
                LABELS[case["system"]],
                _seconds(case.get("median_seconds")),
                _seconds(case.get("max_seconds")),
                used,
                f"{case['jobs']:,}",
            ]
        )
    header = ["System", "Median", "Max", "Edits used", "Jobs"]
    return ["### 5. Edit propagation: commit to first hand-over", "", *_table(header, rows)]


def floor(document: dict[str, Any]) -> list[str]:
    workload = document.get("workloads", {}).get("floor", {})
    inserts = workload.get("inserts", [])
    if not inserts:
        return []
    rows = [
        [
            row["database"],
            f"{row['rows']:,}",
            f"{_seconds(row['executemany_seconds'])} ({_n(row['executemany_rows_per_second'])}/s)",
            f"{_seconds(row['copy_seconds'])} ({_n(row['copy_rows_per_second'])}/s)"
            if "copy_seconds" in row
            else "-",
            _n(row["single_row_commits_per_second"]),
        ]
        for row in inserts
    ]
    header = ["Database", "Run rows", "executemany", "COPY", "One row per commit (rows/s)"]
    cron = workload.get("cron", {})
    return [
        "### 6. The floor: run rows inserted in batches of 1,000, no scheduler",
        "",
        *_table(header, rows),
        f"croniter: {cron.get('croniter_build_us')} µs to build an iterator, "
        f"{cron.get('croniter_next_us')} µs per next time; Tickwork's `Cron.next_after`: "
        f"{cron.get('tickwork_cron_next_after_us')} µs.",
        "",
    ]


def idle_wakeup(document: dict[str, Any]) -> list[str]:
    cases = _cases(document, "idle")
    if not cases:
        return []
    rows = []
    for case in cases:
        problem = _problem(case)
        if problem:
            rows.append([LABELS[case["system"]], f"{case['jobs']:,}", problem, "", "", ""])
            continue
        rows.append(
            [
                LABELS[case["system"]],
                f"{case['jobs']:,}",
                _n(case["cpu_ms_median"], 2),
                _n(case["cpu_ms_p90"], 2),
                _n(case["wall_ms_median"], 2),
                str(case["statements_per_wakeup"]),
            ]
        )
    header = ["System", "Jobs", "CPU ms (median)", "CPU ms (p90)", "Wall ms", "Statements"]
    return [
        "### Idle wake-up: one wake-up with nothing due, CPU of the scheduler process",
        "",
        *_table(header, rows),
    ]


def insert_paths(document: dict[str, Any]) -> list[str]:
    batches = document.get("workloads", {}).get("insert_paths", {}).get("batches", [])
    if not batches:
        return []
    paths = list(dict.fromkeys(batch["path"] for batch in batches))
    by_size: dict[int, dict[str, Any]] = {}
    for batch in batches:
        by_size.setdefault(batch["rows"], {})[batch["path"]] = batch
    rows = [
        [f"{size:,}"]
        + [
            f"{found[path]['wall_ms']:g} ms ({found[path]['cpu_ms']:g} ms CPU)"
            if path in found
            else "-"
            for path in paths
        ]
        for size, found in by_size.items()
    ]
    return [
        "### The claim's insert on PostgreSQL: unnest against COPY, one committed batch",
        "",
        *_table(["Runs", *[path.replace("_", " ") for path in paths]], rows),
    ]


def header(document: dict[str, Any]) -> list[str]:
    box = document.get("machine", {})
    versions = document.get("versions", {})
    packages = ", ".join(f"{name} {version}" for name, version in versions.items() if version)
    return [
        f"Measured {document.get('generated_at', '?')} by `{document.get('command', '?')}` "
        f"in {document.get('seconds', '?')} s, on {box.get('processor', '?')} "
        f"({box.get('cpus', '?')} CPUs, {box.get('memory_gib', '?')} GiB), "
        f"load average {box.get('load_average_1m_at_start', '?')} at the start; "
        f"Python {box.get('python', '?')}; {packages}.",
        "",
    ]


def markdown(document: dict[str, Any]) -> str:
    parts = [
        header(document),
        herd(document),
        startup_and_idle(document),
        lateness(document),
        edit(document),
        floor(document),
        idle_wakeup(document),
        insert_paths(document),
        steady(document),
    ]
    return "\n".join(line for part in parts for line in part)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results/latest.json"
    print(markdown(json.loads(path.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
