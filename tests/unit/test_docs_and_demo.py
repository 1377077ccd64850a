"""What a new user reads and runs first says true things (issue 14's rough edges).

The Makefile's demo targets are read with ``make -n -B`` (print every command,
run none), so the test holds what ``make`` would really run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.parts)
#: ``pip install`` of Tickwork from the package index, where it is not yet.
FROM_INDEX = re.compile(r"pip install (?!-e\b|-r\b)[^\n`]*\btickwork\b(?! @ git\+)")
INSTALL_NOTE = "quickstart.md#1-install-tickwork"


def dry_run(target: str) -> str:
    if shutil.which("make") is None:
        pytest.fail("make is not installed: the Makefile's targets cannot be read")
    done = subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.replace("\\\n", " ")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(DOCS)))
def test_installing_from_the_package_index_comes_with_the_checkout_note(page: Path) -> None:
    """Until the first release, every page that says ``pip install tickwork``
    also says how to install from a checkout (the quickstart's section)."""
    text = page.read_text(encoding="utf-8")
    found = FROM_INDEX.findall(text)
    if page == DOCS / "quickstart.md":
        assert "not on the Python package index yet" in text
        assert "pip install -e ./tickwork" in text
    elif found:
        assert INSTALL_NOTE in text, f"{page.name}: {found[0]!r} without the checkout note"


def test_the_quickstart_names_the_standalone_demo_target() -> None:
    text = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    assert "$ make demo-standalone" in text
    assert "`make demo` is the Django demo" in text


def test_demo_standalone_checks_the_schedules_file_it_runs() -> None:
    commands = dry_run("demo-standalone")
    checked = re.findall(r"tickwork check (\S+)", commands)
    ran = re.findall(r"tickwork run .*?--schedules (\S+)", commands)
    assert checked and checked == ran, commands
    header = (ROOT / ran[0]).read_text(encoding="utf-8").splitlines()[:3]
    assert any("make demo-standalone" in line for line in header), header


@pytest.mark.parametrize("target", ["demo", "demo-standalone"])
def test_the_demos_install_only_what_they_need_and_show_it(target: str) -> None:
    commands = dry_run(target)
    installs = [line for line in commands.splitlines() if "pip install" in line]
    assert installs == [
        ".venv-demo/bin/pip install --disable-pip-version-check --progress-bar on "
        '-e ".[django,sqlalchemy]"'
    ]
    assert ".venv/" not in commands  # not the development environment


def test_the_test_targets_keep_the_development_environment() -> None:
    commands = dry_run("test")
    assert '.venv/bin/pip install --quiet -e ".[dev]"' in commands
    assert ".venv/bin/nox --sessions" in commands


def test_the_yaml_reference_calls_no_executor_unfinished() -> None:
    text = (DOCS / "reference" / "yaml.md").read_text(encoding="utf-8")
    assert "in development" not in text


def test_the_celery_guide_says_recovered_runs_are_retried() -> None:
    text = (DOCS / "how-to" / "run-jobs-on-celery.md").read_text(encoding="utf-8")
    text = " ".join(text.split())
    assert "found by the scheduler's recovery is not" not in text
    assert "Either way the run is retried if its job has retries left" in text
