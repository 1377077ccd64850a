"""What the deployment files under ``contrib/`` say, read the way their tools read them.

Each reader returns the command lines a file would start, as argument lists,
so the tests can hold every one of them against the real command's ``--help``.
"""

from __future__ import annotations

import configparser
import functools
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CONTRIB = REPO / "contrib"
KUBERNETES = CONTRIB / "kubernetes"
SYSTEMD = CONTRIB / "systemd"
DOCKER = CONTRIB / "docker"

#: Flags that the metrics work adds to the commands.
PENDING_FLAGS = frozenset({"--metrics-port", "--metrics-host"})
#: Programs a deployment file may start that are not Tickwork's to check.
OTHER_PROGRAMS = frozenset({"pg_isready", "celery"})

_LONG_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


@dataclass(frozen=True, slots=True)
class CommandLine:
    """One command a deployment file starts: where it is written and its arguments."""

    where: str
    argv: tuple[str, ...]

    @property
    def program(self) -> tuple[str, str] | None:
        """``("tickwork", sub)`` or ``("django", command)``; None for another program."""
        argv, name = self.argv, Path(self.argv[0]).name
        if name == "tickwork" and len(argv) > 1:
            return "tickwork", argv[1]
        if re.fullmatch(r"python[\d.]*", name) and len(argv) > 2:
            if argv[1] == "-m" and argv[2] == "scheduler" and len(argv) > 3:
                return "tickwork", argv[3]
            if argv[1].endswith("manage.py"):
                return "django", argv[2]
        return None

    @property
    def flags(self) -> set[str]:
        """The long options given, without their ``=value``."""
        return {arg.split("=", 1)[0] for arg in self.argv if arg.startswith("--")}

    def value(self, flag: str) -> str | None:
        """The value given to ``flag`` (``--flag VALUE`` or ``--flag=VALUE``), if any."""
        for index, arg in enumerate(self.argv):
            if arg == flag and index + 1 < len(self.argv):
                return self.argv[index + 1]
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
        return None


def yaml_files() -> list[Path]:
    return sorted(p for ext in ("*.yaml", "*.yml") for p in CONTRIB.rglob(ext))


def json_files() -> list[Path]:
    return sorted(CONTRIB.rglob("*.json"))


def load_all(path: Path) -> list[Any]:
    """Every document of a YAML file, read with the safe loader."""
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as stream:
        return json.load(stream)


def kustomization() -> dict[str, Any]:
    found: dict[str, Any] = load_all(KUBERNETES / "kustomization.yaml")[0]
    return found


def kubernetes_objects() -> list[tuple[Path, dict[str, Any]]]:
    """The objects of every manifest that kustomization.yaml lists, in its order."""
    return [
        (KUBERNETES / name, doc)
        for name in kustomization()["resources"]
        for doc in load_all(KUBERNETES / name)
    ]


def objects_of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in kubernetes_objects() if doc["kind"] == kind]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def kubernetes_commands() -> Iterator[CommandLine]:
    for path, doc in kubernetes_objects():
        if "template" not in doc.get("spec", {}):
            continue
        spec = pod_spec(doc)
        for container in spec.get("initContainers", []) + spec["containers"]:
            argv = [*container.get("command", []), *container.get("args", [])]
            where = f"{path.name}: {doc['kind']} {doc['metadata']['name']}, {container['name']}"
            yield CommandLine(where, tuple(str(arg) for arg in argv))


def systemd_units() -> dict[Path, configparser.RawConfigParser]:
    """Every unit under contrib/ (contrib/systemd/, and the Celery example's)."""
    units = {}
    for path in sorted(CONTRIB.glob("**/systemd/*.service")):
        parser = configparser.RawConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(_join_continuations(path.read_text(encoding="utf-8")))
        units[path] = parser
    return units


def systemd_commands() -> Iterator[CommandLine]:
    for path, unit in systemd_units().items():
        for key, value in unit["Service"].items():
            if key.startswith("Exec"):
                argv = tuple(shlex.split(value.lstrip("-@+!:")))
                yield CommandLine(f"{path.relative_to(CONTRIB)}: {key}", argv)


def supervisor_programs() -> dict[str, configparser.SectionProxy]:
    """Every ``[program:...]`` under contrib/, by ``"FILE: [SECTION]"`` (FILE from contrib/)."""
    programs = {}
    for path in sorted(CONTRIB.glob("**/supervisor/*.conf")):
        parser = configparser.RawConfigParser(inline_comment_prefixes=(";",), interpolation=None)
        parser.read(path, encoding="utf-8")
        for section in parser.sections():
            if section.startswith("program:"):
                programs[f"{path.relative_to(CONTRIB)}: [{section}]"] = parser[section]
    return programs


def supervisor_commands() -> Iterator[CommandLine]:
    for where, program in supervisor_programs().items():
        yield CommandLine(where, tuple(shlex.split(program["command"])))


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, rest), continuations joined."""
    text = _join_continuations((DOCKER / "Dockerfile").read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, rest = line.strip().partition(" ")
            found.append((instruction.upper(), rest.strip()))
    return found


def dockerfile_exec_form(rest: str) -> tuple[str, ...]:
    """The argument list of ``CMD [...]``; a shell-form command is a mistake here."""
    argv = json.loads(rest)
    assert isinstance(argv, list), f"not an exec-form (JSON list) command: {rest}"
    return tuple(argv)


def docker_commands() -> Iterator[CommandLine]:
    for instruction, rest in dockerfile():
        if instruction in {"CMD", "ENTRYPOINT"}:
            yield CommandLine(f"Dockerfile: {instruction}", dockerfile_exec_form(rest))
        if instruction == "HEALTHCHECK":
            command = rest[rest.index("CMD ") + 4 :]
            yield CommandLine("Dockerfile: HEALTHCHECK", dockerfile_exec_form(command))
    compose = load_all(DOCKER / "compose.yaml")[0]
    for name, service in compose["services"].items():
        if "command" in service:
            command = service["command"]
            argv = shlex.split(command) if isinstance(command, str) else command
            yield CommandLine(f"compose.yaml: {name}", tuple(argv))
        test = service.get("healthcheck", {}).get("test")
        if test:
            yield CommandLine(f"compose.yaml: {name} healthcheck", tuple(test[1:]))


def every_command() -> list[CommandLine]:
    return [
        *kubernetes_commands(),
        *systemd_commands(),
        *supervisor_commands(),
        *docker_commands(),
    ]


@functools.cache
def help_text(program: str, name: str) -> str:
    """The real ``--help`` of ``tickwork NAME`` or of the Django command ``NAME``.

    Django commands are those of the test suite's project (tests/django_settings.py),
    which installs the scheduler app as a site would.
    """
    if program == "tickwork":
        argv = [sys.executable, "-m", "scheduler", name, "--help"]
    else:
        argv = [sys.executable, "-m", "django", name, "--help"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.django_settings"}
    done = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{' '.join(argv[1:])} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


def accepted_flags(program: str, name: str) -> set[str]:
    """Every long option that the command's ``--help`` names."""
    return set(_LONG_FLAG.findall(help_text(program, name)))


def _join_continuations(text: str) -> str:
    """Lines ending in a backslash joined with the next, as systemd and Docker do."""
    return re.sub(r"\\\n[ \t]*", " ", text)
