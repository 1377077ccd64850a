"""A PostgreSQL cluster of the test's own, to stop and start again (outage tests).

The shared server on 127.0.0.1:5432 cannot be stopped under other tests, so
this makes a throwaway cluster with Debian's ``initdb`` and ``pg_ctl`` in a
temporary directory, on a free port, with trust authentication.  PostgreSQL
refuses to run as root: as root, its commands run as the ``postgres`` user.
Without the server binaries the test is skipped (it fails under ``CI=true``).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import _service_missing

from .process import free_port


def _bindir() -> Path:
    found = shutil.which("initdb") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)), None
    )
    if found is None:
        _service_missing("PostgreSQL's initdb", FileNotFoundError("initdb"))
        raise AssertionError("unreachable")
    return Path(found).parent


@dataclass
class PrivatePostgres:
    """A cluster in ``directory`` listening on 127.0.0.1:``port`` while started."""

    directory: Path
    port: int
    bindir: Path

    @classmethod
    def create(cls) -> PrivatePostgres:
        directory = Path(tempfile.mkdtemp(prefix="tickwork-pg-"))
        cluster = cls(directory, free_port(), _bindir())
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        cluster._run("initdb", "-D", str(cluster.data), "-U", "postgres", "-A", "trust")
        return cluster

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off"
        )
        log = str(self.directory / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: sessions are ended, as in a restart of the server."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
