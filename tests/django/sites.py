"""A Django site of its own for tests that start real ``manage.py`` processes.

:func:`site` writes a settings module (the test settings, on a new SQLite
file, with a schedules file of one ``every: 1s`` job) and migrates it;
:func:`manage` runs ``python -m django`` in it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def site(tmp_path: Path, extra: str = "") -> dict[str, str]:
    """A settings module on a migrated SQLite file; the environment to run it in."""
    (tmp_path / "schedules.yaml").write_text(
        textwrap.dedent(
            """
            jobs:
              ping:
                task: tests.django.testapp.tasks.ping
                every: 1s
            """
        )
    )
    (tmp_path / "site_settings.py").write_text(
        textwrap.dedent(
            f"""
            from tests.django_settings import *  # noqa: F403

            DATABASES = {{
                "default": {{
                    "ENGINE": "django.db.backends.sqlite3",
                    "NAME": {str(tmp_path / "site.sqlite3")!r},
                }}
            }}
            DATABASE_ROUTERS = []
            SCHEDULER = {{"SCHEDULES": {str(tmp_path / "schedules.yaml")!r}}}
            """
        )
        + extra
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "site_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    manage(env, "migrate", "--verbosity", "0")
    return env


def manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``python -m django ARGS`` in the site of ``env``; with ``check``, it must exit 0."""
    done = subprocess.run(
        [sys.executable, "-m", "django", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
        check=False,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done
