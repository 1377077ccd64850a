"""django-celery-beat: Celery beat's ``Service`` loop with its ``DatabaseScheduler``.

Django is configured in this process (the app ``django_celery_beat`` and its
migrations, on SQLite or PostgreSQL), Celery publishes to its in-memory broker
(``memory://``), and the loop is ``celery.beat.Service.start``, exactly what
``celery beat --scheduler django_celery_beat.schedulers:DatabaseScheduler``
runs.  A run counts as handed over when Celery's ``after_task_publish`` signal
says its message was published.  One thin subclass counts the scheduler's
ticks; statements are counted with Django's ``connection.execute_wrapper``.

Jobs are created with ``PeriodicTask.objects.bulk_create`` in batches (one
``save()`` each would take minutes for 100,000); the scheduler reads them
back exactly as it reads rows created in admin.

django-celery-beat keeps no run history either: per run it updates the task's
``last_run_at`` and ``total_run_count``, in memory, and writes them to the
database in its next sync (every 3 minutes, and when beat stops), one
``save()`` per task.  The herd therefore reports that final sync separately.
"""

from __future__ import annotations

import inspect
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import profiling
from ..common import Counter, Database, Handovers, Starts
from . import Slot

__all__ = ["CeleryBeatHarness"]

TASK = "bench.noop"
_BATCH = 2000


def _configure_django(database: Database, *, migrate: bool) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        INSTALLED_APPS=["django_celery_beat"],
        DATABASES={"default": database.django_settings()},
        USE_TZ=True,
        TIME_ZONE="UTC",
        CELERY_BEAT_SCHEDULER="django_celery_beat.schedulers:DatabaseScheduler",
    )
    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def _celery_app() -> Any:
    from celery import Celery

    app = Celery("tickwork_bench", broker="memory://", set_as_current=True)
    app.conf.update(timezone="UTC", enable_utc=True, broker_connection_retry_on_startup=True)

    @app.task(name=TASK)  # type: ignore[untyped-decorator]
    def noop() -> None:
        """The task every benchmark job runs (published, never executed here)."""

    return app


class CeleryBeatHarness:
    """See :class:`~benchmarks.systems.Harness`."""

    def __init__(self, database: Database, *, fresh: bool = True) -> None:
        _configure_django(database, migrate=fresh)
        self.database = database
        self.app = _celery_app()
        self.handovers = Handovers()
        self.statements = Counter()
        self.wakeups = Counter()
        self.claims = Starts()
        self.notes = [
            "django-celery-beat keeps no run history; it saves last_run_at per task "
            "at its next sync (every 3 minutes and at shutdown)"
        ]
        self._slots: dict[str, float] = {}
        self._loaded = threading.Event()
        self._go = threading.Event()
        self._service: Any = None
        self._thread: threading.Thread | None = None
        self.load_seconds: float | None = None
        self.sync_seconds: list[float] = []
        from celery.signals import after_task_publish

        after_task_publish.connect(self._published, weak=False)

    def _published(self, sender: Any = None, headers: Any = None, **_: Any) -> None:
        name = (headers or {}).get("periodic_task_name", "")
        self.handovers.add(name, self._slots.get(name))

    # -- filling the database ------------------------------------------------------
    def _create(self, tasks: list[Any]) -> None:
        from django_celery_beat.models import PeriodicTask

        PeriodicTask.objects.bulk_create(tasks, batch_size=_BATCH)

    def fill_herd(self, jobs: int) -> None:
        from django_celery_beat.models import CrontabSchedule, PeriodicTask

        every_minute = CrontabSchedule.objects.create(
            minute="*", hour="*", day_of_week="*", day_of_month="*", month_of_year="*"
        )
        # Last run a minute ago: the minute boundary since then makes every task due now.
        last = datetime.now(UTC) - timedelta(seconds=61)
        self._create(
            [
                PeriodicTask(name=_name(i), task=TASK, crontab=every_minute, last_run_at=last)
                for i in range(jobs)
            ]
        )

    def fill_quiet(self, jobs: int, cron: str) -> None:
        from django_celery_beat.models import CrontabSchedule, PeriodicTask

        minute, hour, day_of_month, month_of_year, day_of_week = cron.split()
        daily = CrontabSchedule.objects.create(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
        )
        self._create([PeriodicTask(name=_name(i), task=TASK, crontab=daily) for i in range(jobs)])

    def fill_spread(self, slots: list[Slot], period: int) -> None:
        from django_celery_beat.models import IntervalSchedule, PeriodicTask

        every = IntervalSchedule.objects.create(every=period, period=IntervalSchedule.SECONDS)
        self._slots = dict(slots)
        self._create(
            [
                # Celery's interval schedule is due one period after the last run.
                PeriodicTask(
                    name=name,
                    task=TASK,
                    interval=every,
                    last_run_at=datetime.fromtimestamp(first - period, UTC),
                )
                for name, first in slots
            ]
        )

    # -- running ---------------------------------------------------------------------
    def start_herd(self, lead: float) -> float:
        """Load the schedule, then start ticking: every task is already due.

        Celery's crontab has no clock to shift and no "next run time" to set, so
        the herd falls due on the last minute boundary, before the scheduler
        has started; the measurement starts when its loop starts (which
        flatters it by the wake-up delay the other systems pay).
        """
        self._launch()
        self._loaded.wait()
        due = time.time()
        self._go.set()
        return due

    def start(self) -> None:
        self._launch()
        self._go.set()

    def _launch(self) -> None:
        from celery.beat import Service
        from django_celery_beat.schedulers import DatabaseScheduler

        harness = self

        class CountingScheduler(DatabaseScheduler):  # type: ignore[misc]
            """django-celery-beat's scheduler, counting its ticks and timing its syncs."""

            def tick(self, *args: Any, **kwargs: Any) -> Any:
                harness.claims.add()
                interval = super().tick(*args, **kwargs)
                harness.wakeups.add()
                return interval

            def sync(self) -> None:
                started = time.perf_counter()
                super().sync()
                harness.sync_seconds.append(time.perf_counter() - started)

        options: dict[str, Any] = {"scheduler_cls": CountingScheduler}
        if "remote_control" in inspect.signature(Service).parameters:
            options["remote_control"] = False
        self._service = Service(self.app, **options)
        self._thread = threading.Thread(
            target=profiling.profiled(self._beat), name="celery-beat", daemon=True
        )
        self._thread.start()

    def _beat(self) -> None:
        from django.db import connection

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            self.statements.add()
            if not profiling.active():
                return execute(sql, params, many, context)
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                profiling.add_statement(sql, time.perf_counter() - started)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            _ = self._service.scheduler  # builds DatabaseScheduler: reads every task
            self.load_seconds = time.perf_counter() - started
            self._loaded.set()
            self._go.wait()
            self._service.start()
        connection.close()

    def edit(self, job: str) -> float:
        """Save the task with a 1-second interval, as admin would, from another connection."""
        committed: list[float] = []

        def save() -> None:
            from django.db import connection
            from django_celery_beat.models import IntervalSchedule, PeriodicTask

            every, _ = IntervalSchedule.objects.get_or_create(
                every=1, period=IntervalSchedule.SECONDS
            )
            task = PeriodicTask.objects.get(name=job)
            task.crontab, task.interval = None, every
            task.save()
            committed.append(time.time())
            connection.close()

        editor = threading.Thread(target=save, name="admin-edit")
        editor.start()
        editor.join()
        return committed[0]

    def recorded(self) -> int | None:
        """Tasks whose saved ``total_run_count`` shows a run."""
        from django_celery_beat.models import PeriodicTask

        return int(PeriodicTask.objects.filter(total_run_count__gt=0).count())

    def details(self) -> dict[str, Any]:
        return {
            "load_seconds": None if self.load_seconds is None else round(self.load_seconds, 3),
            "syncs": len(self.sync_seconds),
            "last_sync_seconds": round(self.sync_seconds[-1], 3) if self.sync_seconds else None,
        }

    def stop(self) -> dict[str, float]:
        """Stop beat; its shutdown sync writes what the runs changed."""
        started = time.perf_counter()
        if self._service is not None and self._thread is not None:
            self._service.stop()
            self._go.set()
            self._thread.join(timeout=600)
        return {"stop_seconds": round(time.perf_counter() - started, 3)}


def _name(index: int) -> str:
    return f"job-{index:06d}"
