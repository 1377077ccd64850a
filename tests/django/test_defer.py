"""defer() on a Django site, on SQLite and PostgreSQL: written when the transaction
commits, run once by the real scheduler on a fake clock, cancellable, bad input refused."""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any, get_type_hints

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

import scheduler
from scheduler.cli import main as tickwork
from scheduler.django.deferral import django_deferrer
from scheduler.django.runner import RunOptions, run
from scheduler.django.store import DjangoStore
from scheduler.errors import InvalidJob, TaskNotRegistered
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus, Trigger
from scheduler.schedules import Once
from scheduler.tasks.defer import DeferredCall
from scheduler.tasks.keywords import FactoryKeywords
from scheduler.testing import FakeClock
from tests.django.conftest import sqlalchemy_url
from tests.django.testapp import tasks

REMIND = "tests.django.testapp.tasks.remind"
START = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


class Rollback(Exception):
    """Raised to roll a transaction back."""


@pytest.fixture
def configured(settings: Any, alias: str) -> str:
    """SCHEDULER on the test database, runs executed inline; returns the alias.

    The long poll interval lets a fake hour pass in a few wake-ups: the engine
    still wakes exactly when something is due."""
    settings.SCHEDULER = {
        "DATABASE": alias,
        "EXECUTORS": {"default": {"BACKEND": "scheduler.executors.immediate.ImmediateExecutor"}},
        "POLL_INTERVAL": 600,
    }
    tasks.CALLS.clear()
    return alias


def job_names(store: DjangoStore) -> list[str]:
    return [job.spec.name for job in store.list_jobs()]


def defer_at_start(**options: Any) -> DeferredCall:
    """Defer ``remind`` on the fake clock's time line (the deferrer the app installs)."""
    options.setdefault("args", [7])
    return django_deferrer(clock=FakeClock(START)).defer(REMIND, **options)


# -- on commit ----------------------------------------------------------------------------
def test_deferred_inside_a_transaction_it_is_written_when_it_commits(
    configured: str, django_store: DjangoStore
) -> None:
    with transaction.atomic(using=configured):
        call = tasks.remind.defer(delay=HOUR, args=[7])
        assert not call.written
        assert job_names(django_store) == []
    assert call.written
    [job] = django_store.list_jobs()
    assert job.spec.name == call.name
    assert (job.spec.task, job.spec.source, job.spec.args) == (REMIND, JobSource.CODE, (7,))
    assert job.next_run_at == call.run_at
    assert re.fullmatch(re.escape(REMIND) + ":[0-9a-f]{16}", call.name)


def test_a_rolled_back_transaction_defers_nothing(
    configured: str, django_store: DjangoStore
) -> None:
    with pytest.raises(Rollback), transaction.atomic(using=configured):
        call = scheduler.defer(REMIND, delay=HOUR, args=[7])
        raise Rollback
    assert not call.written
    assert job_names(django_store) == []


def test_a_rolled_back_savepoint_defers_nothing_but_the_outer_commit_writes_the_rest(
    configured: str, django_store: DjangoStore
) -> None:
    with transaction.atomic(using=configured):
        kept = tasks.remind.defer(delay=HOUR, args=[1])
        with pytest.raises(Rollback), transaction.atomic(using=configured):
            dropped = tasks.remind.defer(delay=HOUR, args=[2])
            raise Rollback
    assert job_names(django_store) == [kept.name]
    assert not dropped.written


def test_a_test_that_never_commits_can_run_the_commit_callbacks(
    configured: str, django_store: DjangoStore, django_capture_on_commit_callbacks: Any
) -> None:
    """What the docs tell users whose tests run inside a transaction (TestCase)."""
    with pytest.raises(Rollback), transaction.atomic(using=configured):
        with django_capture_on_commit_callbacks(using=configured, execute=True) as callbacks:
            call = tasks.remind.defer(delay=HOUR, args=[7])
            assert not call.written
        assert len(callbacks) == 1 and call.written
        assert job_names(django_store) == [call.name]
        raise Rollback


def test_outside_a_transaction_it_is_written_at_once(
    configured: str, django_store: DjangoStore
) -> None:
    call = tasks.remind.defer(delay=HOUR, args=[7])
    assert call.written and job_names(django_store) == [call.name]


def test_on_commit_false_writes_inside_the_transaction_which_decides(
    configured: str, django_store: DjangoStore
) -> None:
    with pytest.raises(Rollback), transaction.atomic(using=configured):
        dropped = tasks.remind.defer(delay=HOUR, args=[7], on_commit=False)
        assert dropped.written and job_names(django_store) == [dropped.name]
        raise Rollback
    assert job_names(django_store) == []
    with transaction.atomic(using=configured):
        kept = tasks.remind.defer(delay=HOUR, args=[7], on_commit=False)
    assert job_names(django_store) == [kept.name]


def test_using_names_the_database(settings: Any, alias: str, django_store: DjangoStore) -> None:
    settings.SCHEDULER = {}  # DATABASE would be "default"
    call = tasks.remind.defer(delay=HOUR, args=[7], using=alias)
    assert job_names(django_store) == [call.name]
    assert scheduler.cancel_deferred(call.name, using=alias)


def test_the_job_is_on_the_sites_clock(
    configured: str, settings: Any, django_store: DjangoStore
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    call = tasks.remind.defer(delay=HOUR, args=[7])
    assert django_store.get_job(call.name).spec.timezone == "Europe/Berlin"


def test_it_shows_in_tickwork_jobs(
    configured: str, django_store: DjangoStore, capsys: pytest.CaptureFixture[str]
) -> None:
    call = tasks.remind.defer(delay=HOUR, args=[7])
    assert tickwork(["jobs", "--database", sqlalchemy_url(configured)]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if call.name in line]
    assert "once at" in line and "code" in line and "active" in line


# -- the scheduler runs it ------------------------------------------------------------------
def test_the_scheduler_runs_it_once_at_its_time_and_not_before(
    configured: str, django_store: DjangoStore
) -> None:
    call = defer_at_start(delay=HOUR, args=[7], kwargs={"channel": "sms"})
    clock = FakeClock(START)
    run(RunOptions(duration=(HOUR - SECOND).total_seconds(), replica_id="r1"), clock=clock)
    assert tasks.CALLS == [] and django_store.list_runs() == []
    run(RunOptions(duration=2 * HOUR.total_seconds(), replica_id="r1"), clock=clock)
    assert tasks.CALLS == [("remind", "7:sms")]
    [ran] = django_store.list_runs()
    assert (ran.job_name, ran.scheduled_for, ran.trigger, ran.status, ran.result) == (
        call.name,
        START + HOUR,
        Trigger.SCHEDULE,
        RunStatus.SUCCEEDED,
        "reminded 7 by sms",
    )
    assert django_store.get_job(call.name).next_run_at is None


def test_two_replicas_run_it_once(configured: str, django_store: DjangoStore) -> None:
    call = defer_at_start(delay=HOUR)
    for replica in ("a", "b"):
        run(
            RunOptions(duration=2 * HOUR.total_seconds(), replica_id=replica),
            clock=FakeClock(START),
        )
    assert [run.job_name for run in django_store.list_runs()] == [call.name]
    assert tasks.CALLS == [("remind", "7:mail")]


# -- cancelling ---------------------------------------------------------------------------
def test_cancel_before_its_time_and_the_scheduler_never_runs_it(
    configured: str, django_store: DjangoStore
) -> None:
    call = defer_at_start(delay=HOUR)
    result = call.cancel()
    assert result, str(result)
    assert django_store.get_job(call.name).state == "disabled"
    run(RunOptions(duration=2 * HOUR.total_seconds()), clock=FakeClock(START))
    assert tasks.CALLS == [] and django_store.list_runs() == []


def test_cancel_after_it_ran_says_so(configured: str, django_store: DjangoStore) -> None:
    call = defer_at_start(delay=HOUR)
    run(RunOptions(duration=2 * HOUR.total_seconds()), clock=FakeClock(START))
    result = scheduler.cancel_deferred(call.name)
    assert not result
    assert str(result).startswith(f"deferred call {call.name} already ran: run ")
    assert "succeeded" in str(result)


def test_cancel_inside_the_transaction_that_deferred_it_withdraws_it(
    configured: str, django_store: DjangoStore
) -> None:
    with transaction.atomic(using=configured):
        call = tasks.remind.defer(delay=HOUR, args=[7])
        assert call.cancel()
    assert job_names(django_store) == []


# -- bad input ----------------------------------------------------------------------------
def test_bad_input_is_refused_and_nothing_is_written(
    configured: str, django_store: DjangoStore
) -> None:
    with transaction.atomic(using=configured):
        with pytest.raises(InvalidJob, match="run_at must be timezone-aware, got naive"):
            tasks.remind.defer(run_at=datetime(2026, 12, 1, 9), args=[7])
        with pytest.raises(InvalidJob, match=r"args: expected JSON values only"):
            tasks.remind.defer(delay=HOUR, args=[object()])
        with pytest.raises(InvalidJob, match="missing a required argument: 'user_id'"):
            tasks.remind.defer(delay=HOUR)
        with pytest.raises(
            TaskNotRegistered, match=re.escape("task 'tests.django.testapp.tasks.nope'")
        ):
            scheduler.defer("tests.django.testapp.tasks.nope", delay=HOUR)
        with pytest.raises(InvalidJob, match="using='elsewhere' is not a database in DATABASES"):
            tasks.remind.defer(delay=HOUR, args=[7], using="elsewhere")
    assert job_names(django_store) == []


def test_an_unknown_keyword_is_refused_as_without_django(
    configured: str, django_store: DjangoStore
) -> None:
    message = (
        f"cannot defer {REMIND!r}: unknown option 'retires'; the options are description, "
        "executor, queue, retries, retry_backoff, retry_backoff_max, timeout; nothing was deferred"
    )
    with transaction.atomic(using=configured):
        with pytest.raises(InvalidJob) as by_method:
            tasks.remind.defer(delay=HOUR, args=[7], retires=2)
        with pytest.raises(InvalidJob) as by_name:
            scheduler.defer(REMIND, delay=HOUR, args=[7], retires=2)
    assert str(by_method.value) == str(by_name.value) == message
    assert job_names(django_store) == []


def test_the_django_deferrer_takes_the_keywords_every_deferrer_factory_takes() -> None:
    shown = inspect.signature(django_deferrer).parameters
    assert list(shown) == ["clock", *get_type_hints(FactoryKeywords)]


# -- history ------------------------------------------------------------------------------
def test_prune_deletes_a_finished_deferred_call_with_its_history(
    configured: str, django_store: DjangoStore
) -> None:
    ran = defer_at_start(delay=HOUR)
    run(RunOptions(duration=2 * HOUR.total_seconds()), clock=FakeClock(START))
    due = tasks.remind.defer(delay=HOUR, args=[8])  # real time: still due
    out = StringIO()
    call_command("scheduler_prune", "--max-age", "1d", stdout=out)
    assert out.getvalue().strip() == "deleted 1 run"
    assert job_names(django_store) == [due.name]
    assert ran.name not in job_names(django_store)
    assert isinstance(django_store.get_job(due.name).spec.schedule, Once)


def test_scheduler_cancel_cancels_once_then_says_why_not(
    configured: str, django_store: DjangoStore
) -> None:
    call = tasks.remind.defer(delay=HOUR, args=[7])
    out = StringIO()
    call_command("scheduler_cancel", call.name, stdout=out)
    assert out.getvalue().startswith(f"deferred call {call.name} cancelled; it was due at ")
    with pytest.raises(CommandError, match="was already cancelled"):
        call_command("scheduler_cancel", call.name)
    with pytest.raises(CommandError, match="no deferred call is called 'nope'"):
        call_command("scheduler_cancel", "nope")
    django_store.save_job(
        JobSpec.build(name="hourly", task=REMIND, cron="0 * * * *", args=[1]), now=START
    )
    with pytest.raises(CommandError, match="job 'hourly' is not a deferred call"):
        call_command("scheduler_cancel", "hourly")
    assert django_store.get_job("hourly").active
