"""``manage.py scheduler_import_celery_beat``: Celery beat's schedule as YAML.

From django-celery-beat's periodic tasks (the default), or with
``--from-settings`` from the project's ``CELERY_BEAT_SCHEDULE`` setting.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from scheduler.cli.import_output import Destination, deliver
from scheduler.django.celery_beat import SOURCE, translate
from scheduler.errors import ImportSourceError
from scheduler.importers import celery_setting
from scheduler.importers.document import Translation


class Command(BaseCommand):
    help = (
        "Write Celery beat's schedule as a schedules.yaml, to review and check in: "
        "django-celery-beat's periodic tasks, or with --from-settings the "
        "CELERY_BEAT_SCHEDULE setting.  Tasks whose meaning would change are imported "
        "disabled, with a CHECK comment; those that cannot be expressed are listed.  An "
        "existing --output file only gets the jobs it lacks.  Nothing is changed in any "
        "database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", type=Path, metavar="FILE", help="write here instead of to stdout"
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            metavar="ALIAS",
            help="where django-celery-beat's tables are (default: 'default')",
        )
        parser.add_argument(
            "--from-settings",
            action="store_true",
            help="read the CELERY_BEAT_SCHEDULE setting instead of django-celery-beat's tables",
        )
        parser.add_argument(
            "--name",
            default="CELERY_BEAT_SCHEDULE",
            metavar="SETTING",
            help="with --from-settings: the setting's name (default CELERY_BEAT_SCHEDULE)",
        )
        parser.add_argument(
            "--timezone",
            metavar="ZONE",
            help="with --from-settings: the IANA zone the crontabs are read in "
            "(default: CELERY_TIMEZONE, else UTC)",
        )
        parser.add_argument("--dry-run", action="store_true", help="write nothing; show the plan")

    def handle(self, *args: Any, **options: Any) -> None:
        now = datetime.now(UTC)
        if options["timezone"] is not None and not options["from_settings"]:
            raise CommandError(
                "--timezone is for --from-settings: django-celery-beat's crontabs each "
                "carry their own time zone",
                returncode=2,
            )
        if options["from_settings"]:
            translations = self._from_settings(options["name"], options["timezone"], now)
            source = celery_setting.SOURCE
        else:
            translations, source = self._from_tables(options["database"], now), SOURCE
        out, err = io.StringIO(), io.StringIO()
        to = Destination(output=options["output"], dry_run=options["dry_run"], out=out, err=err)
        try:
            deliver(translations, source, to, now=now)
        except ImportSourceError as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(out.getvalue(), ending="")
        self.stderr.write(err.getvalue(), ending="")

    def _from_tables(self, database: str, now: datetime) -> Sequence[Translation]:
        try:
            models = importlib.import_module("django_celery_beat.models")
        except ImportError as error:
            raise CommandError(
                "django-celery-beat is not installed: there is nothing to import "
                "(use --from-settings for the CELERY_BEAT_SCHEDULE setting)",
                returncode=2,
            ) from error
        tasks = models.PeriodicTask.objects.using(database).select_related(
            "interval", "crontab", "clocked", "solar"
        )
        return [translate(task, now=now) for task in tasks.order_by("name")]

    def _from_settings(self, name: str, zone: str | None, now: datetime) -> Sequence[Translation]:
        schedule = getattr(settings, name, None)
        if not isinstance(schedule, dict):
            found = "not set" if schedule is None else f"a {type(schedule).__name__}"
            raise CommandError(f"the setting {name} is {found}, not a dict", returncode=2)
        try:
            zone = celery_setting.chosen_zone(zone) if zone is not None else None
        except ImportSourceError as error:
            raise CommandError(str(error), returncode=2) from error
        zone = zone or celery_setting.zone_of(getattr(settings, "CELERY_TIMEZONE", None))
        return [
            celery_setting.translate(key, spec, zone=zone, now=now)
            for key, spec in schedule.items()
        ]
