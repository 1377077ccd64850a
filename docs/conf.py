"""Sphinx configuration for the Tickwork documentation.

The build must work offline with what the ``docs`` extra installs (Sphinx,
myst-parser, and Django and SQLAlchemy for the API reference) beside
Tickwork's own dependencies: ``make docs`` runs ``pip install -e .[docs]`` and
then ``sphinx-build -W --keep-going -b html docs docs/_build/html``.

The API reference (``reference/api.md``) imports the package with autodoc.
Django and SQLAlchemy are installed for real, because the two database stores
build models and queries with them as they are imported, which mocks cannot
stand in for; Django is set up below.  Celery and kombu are mocked (see
``autodoc_mock_imports``): the Celery executor only needs their names.
"""

from __future__ import annotations

import inspect
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

# Document the checkout being built, even if another copy of the package is
# installed.
sys.path.insert(0, str(ROOT))


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

# -- API reference (sphinx.ext.autodoc) ----------------------------------------

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# Defaults as written in the source (``DEFAULT_DB_ALIAS``), not their repr.
autodoc_preserve_defaults = True
# Long signatures (JobSpec has 22 fields) get one parameter per line.
python_maximum_signature_line_length = 90
# Name a documented class or alias without its module.
python_use_unqualified_type_names = True
# Type aliases shown by name, linking to their entry, instead of expanded.
autodoc_type_aliases = {
    "JSONValue": "scheduler.model.jobs.JSONValue",
    "TaskRef": "scheduler.tasks.deferrer.TaskRef",
    "Planner": "scheduler.stores.base.Planner",
    "Retrier": "scheduler.stores.base.Retrier",
}

# Optional libraries that a documented module imports at the top but that the
# ``docs`` extra does not install: the Celery executor imports kombu, and needs
# no more than the names to exist while it is imported.  SQLAlchemy and Django
# cannot be mocked (the stores compare columns and read ``Model._meta`` at
# import time), so the ``docs`` extra installs them.
autodoc_mock_imports = ["celery", "kombu"]

# The Django store imports the app's models, and a model class can only be
# built once settings are configured and the app registry is ready.  These are
# the smallest settings that load the app; nothing here opens a database.
if not settings.configured:
    settings.configure(INSTALLED_APPS=["scheduler.django"], USE_TZ=True)
django.setup()

_ALIAS_REPR = re.compile(r"TypeAliasForwardRef\('([\w.]+)'\)")


def _signature(
    app: Any,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    returns: str | None,
) -> tuple[str | None, str | None] | None:
    """Tidy the signatures autodoc writes.

    A protocol is never instantiated, so its ``(*args, **kwargs)`` is dropped.
    A dataclass field with a ``default_factory`` shows as ``<factory>``, which
    the Python domain cannot parse (it then prints the whole signature as plain
    text): ``...`` stands in for it.  And a type alias inside another type
    (``tuple[JSONValue, ...]``) comes out as ``TypeAliasForwardRef('name')``:
    only the name is kept.
    """
    if what in {"class", "exception"} and getattr(obj, "_is_protocol", False):
        return "", returns

    def tidy(text: str | None) -> str | None:
        if text is None:
            return None
        return _ALIAS_REPR.sub(r"\1", text.replace("<factory>", "..."))

    return tidy(signature), tidy(returns)


def _enum_members(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """List the members of a ``DocumentedEnum``, each with its docstring.

    Such a member keeps its docstring in ``__doc__``, which autodoc does not
    read for attributes; so each member is added to its class's docstring as
    an ``attribute`` entry.  Document these enums without ``:members:``.
    """
    from scheduler.model.enums import DocumentedEnum

    if what != "class" or not (isinstance(obj, type) and issubclass(obj, DocumentedEnum)):
        return
    for member in obj:
        lines.extend(["", f".. attribute:: {member.name}", f"   :value: {member.value!r}", ""])
        lines.extend(f"   {line}" for line in inspect.cleandoc(member.__doc__ or "").splitlines())


def setup(app: Any) -> None:
    app.connect("autodoc-process-signature", _signature)
    app.connect("autodoc-process-docstring", _enum_members)
