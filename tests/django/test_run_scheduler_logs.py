"""``manage.py run_scheduler`` logs as JSON: by ``--log-format json``, or by the
``LOGGING`` example of ``docs/reference/logs.md``; real ``manage.py`` processes.

Each test writes a settings module next to a fresh SQLite database, migrates
it, and runs ``run_scheduler`` for three seconds with an ``every: 1s`` job;
every line on standard error must then be one JSON object, and the runs'
``dispatched`` and ``finished`` lines must be there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.django.sites import ROOT, manage, site

#: The example of docs/reference/logs.md, as written there.
DOCUMENTED_LOGGING = """
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "scheduler.monitoring.logs.JsonFormatter"},
    },
    "handlers": {
        "json_stderr": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "loggers": {
        "scheduler": {"handlers": ["json_stderr"], "level": "INFO", "propagate": False},
    },
}
"""


def test_the_documented_logging_example_is_the_one_in_the_docs() -> None:
    assert DOCUMENTED_LOGGING.strip() in (ROOT / "docs/reference/logs.md").read_text()


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = text.splitlines()
    assert lines
    return [json.loads(line) for line in lines]


def assert_run_logged(lines: list[dict[str, Any]]) -> None:
    events = {line.get("event") for line in lines}
    assert {"replica_started", "dispatched", "finished", "replica_stopped"} <= events
    finished = [line for line in lines if line.get("event") == "finished"]
    assert {(line["job"], line["status"]) for line in finished} == {("ping", "succeeded")}


#: Long enough for the every-1s job's first slot, a second after it is synced.
RUN = ("run_scheduler", "--duration", "3", "--executor", "immediate")


def test_log_format_json_without_logging(tmp_path: Path) -> None:
    env = site(tmp_path)
    done = manage(env, *RUN, "--log-format", "json")
    assert_run_logged(json_lines(done.stderr))


def test_the_logging_example_writes_json_and_the_flag_says_it_has_no_effect(
    tmp_path: Path,
) -> None:
    env = site(tmp_path, DOCUMENTED_LOGGING)
    done = manage(env, *RUN)
    assert_run_logged(json_lines(done.stderr))
    flagged = manage(env, "run_scheduler", "--once", "--log-format", "text")
    notice, *rest = flagged.stderr.splitlines()
    assert notice.startswith("--log-format text has no effect: LOGGING already configures")
    json_lines("\n".join(rest))
