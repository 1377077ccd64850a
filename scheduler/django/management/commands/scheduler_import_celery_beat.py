"""``manage.py scheduler_import_celery_beat``: django-celery-beat's periodic tasks as YAML."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from scheduler.django.celery_beat import render, translate


class Command(BaseCommand):
    help = (
        "Write django-celery-beat's periodic tasks as a schedules.yaml, to review and check in. "
        "Tasks whose meaning would change are imported disabled, with a CHECK comment; "
        "those that cannot be expressed are listed in comments.  Nothing is changed in "
        "either database."
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

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            models = importlib.import_module("django_celery_beat.models")
        except ImportError as error:
            raise CommandError(
                "django-celery-beat is not installed: there is nothing to import"
            ) from error
        tasks = models.PeriodicTask.objects.using(options["database"]).select_related(
            "interval", "crontab", "clocked", "solar"
        )
        now = datetime.now(UTC)
        translations = [translate(task, now=now) for task in tasks.order_by("name")]
        text = render(translations, now=now)
        output: Path | None = options["output"]
        if output is None:
            self.stdout.write(text, ending="")
            return
        if output.exists():
            raise CommandError(f"{output} exists; choose a new file, or remove it first")
        output.write_text(text, encoding="utf-8")
        imported = sum(found.entry is not None for found in translations)
        self.stdout.write(f"wrote {imported} of {len(translations)} periodic tasks to {output}")
