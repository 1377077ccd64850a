"""``manage.py demo_setup``: the demo's admin user, and a reminder deferred for later.

For the demo only: the user is a superuser with a password everybody knows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from reminders.tasks import send_reminder

USERNAME = "demo"
PASSWORD = "demo"  # noqa: S105 - a demo on localhost


class Command(BaseCommand):
    help = "Create (or reset) the demo admin user and defer a reminder a few seconds ahead."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--delay", type=float, default=20, metavar="SECONDS", help="when the reminder runs"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user, _ = get_user_model().objects.get_or_create(username=USERNAME)
        user.is_staff = user.is_superuser = True
        user.set_password(PASSWORD)
        user.save()
        self.stdout.write(f"admin user: {USERNAME}, password: {PASSWORD} (demo only)")
        call = send_reminder.defer(
            delay=timedelta(seconds=options["delay"]),
            args=[1],
            kwargs={"message": "your trial ends tomorrow"},
        )
        self.stdout.write(
            f"deferred {call.name}: runs once at {call.run_at:%H:%M:%S} UTC "
            f"(in {options['delay']:g} s); manage.py scheduler_cancel NAME would cancel it"
        )
