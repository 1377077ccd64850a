"""Sphinx configuration for the Tickwork documentation.

The build must work offline and with nothing installed beyond Sphinx and
myst-parser: CI runs ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _project_version() -> str:
    """The version in pyproject.toml; the package itself need not be installed."""
    try:
        with (ROOT / "pyproject.toml").open("rb") as pyproject:
            return str(tomllib.load(pyproject)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


release = version = _project_version()

project = "Tickwork"
author = "The Tickwork developers"
copyright = "The Tickwork developers"

extensions = [
    "myst_parser",
    # Ready for an API reference page; it imports nothing until a directive asks.
    "sphinx.ext.autodoc",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]

html_theme = "alabaster"
html_title = f"Tickwork {release}"
html_theme_options = {
    "description": "Periodic jobs for Django and plain Python",
    "fixed_sidebar": True,
    "page_width": "1180px",
}
html_static_path = ["_static"]
html_css_files = ["tickwork.css"]
