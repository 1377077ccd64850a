"""Every command line in the deployment files starts a real command with flags it accepts.

Each is held against the real command's ``--help``: ``tickwork SUB --help``,
and ``python -m django NAME --help`` in the test suite's Django project for
``manage.py NAME``.  A flag that another part of the operations work adds
(:data:`PENDING_FLAGS`) is checked by a test of its own, so that the rest of
the check does not wait for it.
"""

from __future__ import annotations

import http.server
import re
import subprocess
import sys
import threading
import urllib.parse

import pytest

from .manifests import (
    OTHER_PROGRAMS,
    PENDING_FLAGS,
    CommandLine,
    accepted_flags,
    docker_commands,
    every_command,
    help_text,
)

COMMANDS = every_command()
CHECKED = [command for command in COMMANDS if command.program is not None]
PENDING_USES = [
    (command, flag) for command in CHECKED for flag in sorted(command.flags & PENDING_FLAGS)
]


def test_every_kind_of_deployment_file_has_commands() -> None:
    sources = {command.where.split(":")[0].rsplit(".", 1)[-1] for command in COMMANDS}
    assert {"yaml", "service", "conf", "Dockerfile"} <= sources
    programs = {command.program for command in CHECKED}
    assert {("tickwork", "run"), ("django", "run_scheduler"), ("django", "migrate")} <= programs


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.where)
def test_the_command_is_a_tickwork_or_django_command(command: CommandLine) -> None:
    name = command.argv[0].rsplit("/", 1)[-1]
    if command.program is None:  # the healthchecks' `python -c` are checked below
        assert name in OTHER_PROGRAMS or command.argv[1:2] == ("-c",), command.argv
        return
    program, sub = command.program
    assert help_text(program, sub).startswith("usage:"), command.argv


@pytest.mark.parametrize("command", CHECKED, ids=lambda command: command.where)
def test_every_flag_is_one_the_command_accepts(command: CommandLine) -> None:
    assert command.program is not None
    unknown = command.flags - PENDING_FLAGS - accepted_flags(*command.program)
    assert not unknown, f"{command.where}: {' '.join(command.argv)}"


@pytest.mark.parametrize(
    ("command", "flag"), PENDING_USES, ids=[f"{c.where}-{flag}" for c, flag in PENDING_USES]
)
def test_the_metrics_and_log_flags_are_accepted(command: CommandLine, flag: str) -> None:
    assert command.program is not None
    assert flag in accepted_flags(*command.program), f"{command.where}: {flag}"


def test_the_pending_flags_are_used_where_the_guides_say() -> None:
    # Without this, dropping --metrics-port from a file would pass the tests above.
    uses = {flag for _, flag in PENDING_USES}
    assert uses == PENDING_FLAGS


@pytest.mark.parametrize("command", CHECKED, ids=lambda command: command.where)
def test_metrics_ports_are_port_numbers(command: CommandLine) -> None:
    port = command.value("--metrics-port")
    if port is not None:
        assert 1024 <= int(port) <= 65535, command.argv


def test_the_docker_healthcheck_fetches_healthz_on_the_metrics_port() -> None:
    by_place = {command.where: command for command in docker_commands()}
    check = by_place["Dockerfile: HEALTHCHECK"]
    assert check.argv[:2] == ("python", "-c")
    urls = re.findall(r"http://[^'\"]+", check.argv[2])
    assert len(urls) == 1, check.argv
    url = urllib.parse.urlsplit(urls[0])
    assert url.path == "/healthz"
    assert str(url.port) == by_place["Dockerfile: CMD"].value("--metrics-port")
    # Compiles: a typo in the one-liner would only show as an unhealthy container.
    compile(check.argv[2], "HEALTHCHECK", "exec")


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_the_docker_healthcheck_passes_on_200_and_fails_on_503(status: int, healthy: bool) -> None:
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/healthz" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "..."}')

        def log_message(self, *args: object) -> None:
            pass

    check = next(c for c in docker_commands() if c.where == "Dockerfile: HEALTHCHECK")
    with http.server.HTTPServer(("127.0.0.1", 0), Health) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            here = f"//127.0.0.1:{server.server_address[1]}/"
            code, found = re.subn(r"//[\w.]+:\d+/", here, check.argv[2])
            assert found == 1, check.argv
            done = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, timeout=30, check=False
            )
        finally:
            server.shutdown()
    assert (done.returncode == 0) is healthy, done.stderr
