"""``manage.py run_scheduler``: run the scheduler; options in, scheduler.django.runner out."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from scheduler.cli.options import positive_float
from scheduler.django.runner import RunOptions, run
from scheduler.engine.signals import ForcedStop
from scheduler.errors import ConfigError, SchedulerError
from scheduler.model.words import plural
from scheduler.monitoring.logs import LOG_FORMATS, log_formatter


class Command(BaseCommand):
    help = (
        "Run the scheduler: reconcile SCHEDULER['SCHEDULES'] into the database, then claim "
        "and hand over due runs until SIGTERM or Ctrl-C, which stop it gracefully; a second "
        "one stops it at once, recording the runs still going as lost."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run what is due now, then exit")
        parser.add_argument(
            "--executor",
            metavar="NAME",
            help="hand every run to the executor NAME of SCHEDULER['EXECUTORS'] "
            "('immediate', 'thread', 'process' and 'asyncio' work unconfigured), "
            "whatever its job names",
        )
        parser.add_argument(
            "--schedules", type=Path, metavar="FILE", help="instead of SCHEDULER['SCHEDULES']"
        )
        parser.add_argument(
            "--replica-id", metavar="ID", help="name of this replica (default host-random)"
        )
        parser.add_argument(
            "--duration", type=positive_float, metavar="SECONDS", help="stop after this long"
        )
        parser.add_argument(
            "--metrics-port",
            type=int,
            metavar="PORT",
            help="serve Prometheus /metrics and /healthz on this port, over "
            "SCHEDULER['METRICS'] (needs tickwork[metrics])",
        )
        parser.add_argument(
            "--metrics-host",
            metavar="HOST",
            help="the address to serve metrics on (default SCHEDULER['METRICS']['HOST'], "
            "or 127.0.0.1)",
        )
        parser.add_argument(
            "--log-level",
            default="INFO",
            type=str.upper,
            choices=("DEBUG", "INFO", "WARNING", "ERROR"),
            help="level of the scheduler's log (default INFO)",
        )
        parser.add_argument(
            "--log-format",
            choices=LOG_FORMATS,
            help="text (default) or json, one object per line, for the log lines this "
            "command shows when LOGGING sends the scheduler's nowhere (else use "
            "scheduler.monitoring.logs.JsonFormatter in LOGGING)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        _configure_logging(options["log_level"], options["log_format"], self.stderr)
        try:
            run(
                RunOptions(
                    once=options["once"],
                    executor=options["executor"],
                    schedules=options["schedules"],
                    replica_id=options["replica_id"],
                    duration=options["duration"],
                    metrics_port=options["metrics_port"],
                    metrics_host=options["metrics_host"],
                )
            )
        except ConfigError as error:
            for issue in error.issues:
                self.stderr.write(str(issue))
            raise CommandError(
                f"{plural(len(error.issues), 'error')} in the schedules file; nothing was changed"
            ) from error
        except ForcedStop as stopped:
            raise CommandError(str(stopped), returncode=stopped.exit_status) from stopped
        except (SchedulerError, ImproperlyConfigured) as error:
            raise CommandError(str(error)) from error


def _configure_logging(level: str, log_format: str | None, stderr: OutputWrapper) -> None:
    """The scheduler logs one line per event; show them on stderr, as ``log_format``
    says, unless the site's LOGGING already sends them somewhere."""
    logger = logging.getLogger("scheduler")
    logger.setLevel(level)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(log_formatter(log_format or "text"))
        logger.addHandler(handler)
    elif log_format is not None:
        stderr.write(
            f"--log-format {log_format} has no effect: LOGGING already configures where the "
            "scheduler's log goes; set the formatter there "
            "(scheduler.monitoring.logs.JsonFormatter for JSON)"
        )
