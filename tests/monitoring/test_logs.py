"""JSON logs: every line one valid object, carrying the scheduler's ``extra`` keys.

First a real engine run (fake clock, in-memory store and SQLite, a recording
executor) with a job that succeeds, one that fails and is retried, and a hook
that raises: every line the ``scheduler`` loggers write through
:class:`JsonFormatter` is parsed, and holds the base fields and each key the
code passed in ``extra``.  Then the formatter's rules one by one, and
``tickwork run --log-format json`` as a real process.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from scheduler.engine import Engine, EngineConfig
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.monitoring.hooks import RunHooks
from scheduler.monitoring.logs import BASE_FIELDS, JsonFormatter, extra_of, log_formatter
from scheduler.stores.base import Store
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, MemoryStore, RecordingExecutor

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Kept(logging.Handler):
    """Keeps the records, to compare each with the line written for it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged() -> Iterator[tuple[io.StringIO, Kept]]:
    """The ``scheduler`` loggers at DEBUG, written as JSON lines to a buffer."""
    stream, kept = io.StringIO(), Kept()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("scheduler")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    logger.addHandler(kept)
    yield stream, kept  # the autouse fixture of tests/conftest.py puts the logger back


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

    sql = SQLAlchemyStore(f"sqlite:///{tmp_path}/logs.sqlite3")
    sql.create_schema()
    yield sql
    sql.dispose()


def engine_run(store: Store) -> None:
    """An hour and five minutes of two jobs, one failing once and retried, and a
    hook that raises on every end."""
    clock = FakeClock(T0)
    tasks = TaskRegistry()
    tasks.register(lambda: "ok", name="tests.work")

    def boom() -> None:
        raise ValueError("boom")

    tasks.register(boom, name="tests.boom")
    for spec in [
        JobSpec.build(name="fine", task="tests.work", every="30m", source=JobSource.CODE),
        JobSpec.build(
            name="flaky",
            task="tests.boom",
            every="1h",
            retries=1,
            retry_backoff="30s",
            source=JobSource.CODE,
        ),
    ]:
        store.save_job(spec, now=T0)
    hooks = RunHooks()

    @hooks.on_finished
    def broken(event: object) -> None:
        raise RuntimeError("this hook is broken")

    Engine(
        store,
        {"default": RecordingExecutor(clock=clock, auto_run=True)},
        registry=tasks,
        clock=clock,
        replica_id="r1",
        config=EngineConfig(poll_interval=3600.0),
        hooks=hooks,
    ).run(until=T0 + timedelta(hours=1, minutes=5))


def test_every_line_of_an_engine_run_is_json_with_its_extra_keys(
    store: Store, logged: tuple[io.StringIO, Kept]
) -> None:
    stream, kept = logged
    engine_run(store)
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(kept.records) > 10
    for text, record in zip(lines, kept.records, strict=True):
        line = json.loads(text)
        assert list(line)[:4] == list(BASE_FIELDS)
        assert line["level"] == record.levelname and line["logger"] == record.name
        assert line["message"] == record.getMessage()
        assert datetime.fromisoformat(line["timestamp"]).utcoffset() == timedelta(0)
        for key, value in extra_of(record).items():
            assert key in line, (key, text)
            assert line[key] == json.loads(json.dumps(value, default=str)), (key, text)
    events = [json.loads(text) for text in lines]
    by_event: dict[str, list[dict[str, Any]]] = {}
    for line in events:
        by_event.setdefault(line.get("event", ""), []).append(line)
    assert {"replica_started", "dispatched", "finished", "retry_scheduled", "hook_failed"} <= set(
        by_event
    )
    assert by_event["replica_stopped"][0]["replica"] == "r1"
    failed = next(line for line in by_event["finished"] if line["status"] == "failed")
    assert failed["job"] == "flaky" and failed["attempt"] == 1 and isinstance(failed["run_id"], int)
    assert failed["scheduled_for"] == "2026-03-02T10:00:00+00:00"
    dispatched = by_event["dispatched"][0]
    assert {"job", "run_id", "scheduled_for", "executor", "lateness"} <= set(dispatched)
    assert isinstance(dispatched["lateness"], float)
    hook = by_event["hook_failed"][0]
    assert hook["level"] == "ERROR" and hook["job"] in {"fine", "flaky"}
    assert hook["traceback"].startswith("Traceback (most recent call last):")
    assert hook["traceback"].rstrip().endswith("RuntimeError: this hook is broken")


class Colour(Enum):
    RED = "red"


def record(**extra: Any) -> logging.LogRecord:
    made = logging.getLogger("scheduler.test").makeRecord(
        "scheduler.test",
        logging.WARNING,
        __file__,
        1,
        "job %s: %d tries",
        ("é", 3),
        None,
        extra=extra,
    )
    made.created = datetime(2026, 3, 2, 9, 0, 1, 250_000, tzinfo=UTC).timestamp()
    return made


def test_the_base_fields() -> None:
    line = json.loads(JsonFormatter().format(record()))
    assert line == {
        "timestamp": "2026-03-02T09:00:01.250+00:00",
        "level": "WARNING",
        "logger": "scheduler.test",
        "message": "job é: 3 tries",
    }


def test_values_that_are_not_json_are_written_as_a_reader_expects() -> None:
    line = json.loads(
        JsonFormatter().format(
            record(
                at=datetime(2026, 3, 2, 9, tzinfo=UTC),
                waited=timedelta(minutes=1, milliseconds=500),
                colour=Colour.RED,
                ids={3, 1, 2},
                pair=(1, "a"),
                path=Path("/srv/schedules.yaml"),
                nothing=None,
            )
        )
    )
    assert line["at"] == "2026-03-02T09:00:00+00:00"
    assert line["waited"] == 60.5
    assert line["colour"] == "red"
    assert line["ids"] == [1, 2, 3]
    assert line["pair"] == [1, "a"]
    assert line["path"] == "/srv/schedules.yaml"
    assert line["nothing"] is None


def test_a_value_json_cannot_hold_is_written_as_its_repr_and_the_line_kept() -> None:
    cycle: list[object] = []
    cycle.append(cycle)
    line = json.loads(
        JsonFormatter().format(record(by_pair={(1, 2): "x"}, cycle=cycle, job="nightly"))
    )
    assert line["by_pair"] == "{(1, 2): 'x'}"
    assert line["cycle"] == "[[...]]"
    assert (line["job"], line["message"]) == ("nightly", "job é: 3 tries")


def test_an_extra_key_never_hides_a_base_field() -> None:
    line = json.loads(JsonFormatter().format(record(level="custom", logger="other")))
    assert (line["level"], line["logger"]) == ("WARNING", "scheduler.test")
    assert (line["extra_level"], line["extra_logger"]) == ("custom", "other")


def test_ascii_only_by_default_and_utf8_on_request() -> None:
    assert "\\u00e9" in JsonFormatter().format(record())
    assert "é" in JsonFormatter(ensure_ascii=False).format(record())


def test_an_exception_and_a_stack_are_strings() -> None:
    try:
        raise KeyError("missing")
    except KeyError:
        made = record()
        made.exc_info = sys.exc_info()
    made.stack_info = "Stack (most recent call last):\n  here"
    line = json.loads(JsonFormatter().format(made))
    assert line["traceback"].startswith("Traceback (most recent call last):")
    assert line["traceback"].endswith("KeyError: 'missing'")
    assert line["stack"] == "Stack (most recent call last):\n  here"
    assert "\n" not in JsonFormatter().format(made)  # one line, whatever it holds


def test_log_formatter_names_the_formats() -> None:
    assert isinstance(log_formatter("json"), JsonFormatter)
    assert not isinstance(log_formatter("text"), JsonFormatter)
    with pytest.raises(ValueError, match="log format must be one of text, json, got 'xml'"):
        log_formatter("xml")


TASKS = """
from scheduler.tasks.registry import job

@job
def tick() -> str:
    return "ok"
"""


def test_tickwork_run_log_format_json_writes_only_json_lines(tmp_path: Path) -> None:
    (tmp_path / "log_tasks.py").write_text(TASKS)
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(
        textwrap.dedent(
            """
            jobs:
              tick:
                task: log_tasks.tick
                every: 1s
            """
        )
    )
    done = subprocess.run(
        [
            sys.executable, "-m", "scheduler", "run", "--log-format", "json",
            "--database", f"sqlite:///{tmp_path}/logs.sqlite3", "--schedules", str(schedules),
            "--pythonpath", str(tmp_path), "--import", "log_tasks", "--duration", "2.5",
            "--poll-interval", "0.2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(text) for text in done.stderr.splitlines()]
    events = [line.get("event") for line in lines]
    assert events[0] == "schema_upgraded" and isinstance(lines[0]["changes"], list)
    assert "replica_started" in events and events[-1] == "replica_stopped"
    finished = [line for line in lines if line.get("event") == "finished"]
    assert finished and all(line["job"] == "tick" for line in finished)
    assert all(line["status"] == "succeeded" for line in finished)
