"""Whether django-celery-beat can be used here, and why not.

django-celery-beat 2.9 (its newest release) supports Django below 6.1, so the
Django 6 leg of the test matrix runs without it: the tests that read its real
models (``scheduler_import_celery_beat``, the benchmark smoke runs of the
celery-beat peer) run on the Django 5.2 leg.  Anywhere else its absence is a
broken install: a failure in CI, a skip with the reason on a laptop.
"""

from __future__ import annotations

import importlib.util
import os

import django
import pytest

__all__ = ["need_celery_beat"]


def need_celery_beat(*, module_level: bool = False) -> None:
    """Skip (or fail in CI) the calling test, or the whole module if
    ``module_level``, when django-celery-beat is not installed."""
    if importlib.util.find_spec("django_celery_beat") is not None:
        return
    if django.VERSION >= (6, 1):
        pytest.skip(
            f"django-celery-beat supports Django < 6.1 and this is Django "
            f"{django.get_version()}; the Django 5.2 leg runs this test",
            allow_module_level=module_level,
        )
    message = "django-celery-beat is not installed; it comes with tickwork[bench]"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message, allow_module_level=module_level)
