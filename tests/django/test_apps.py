"""What the app does when Django is ready: the seams every process of the site shares."""

from __future__ import annotations

from typing import Any

from scheduler.django.apps import allow_task_patterns
from scheduler.tasks.registry import TaskRegistry
from scheduler.workers.store import default_store_factory


def test_workers_find_the_django_store_by_default() -> None:
    choice = default_store_factory()
    assert choice is not None and choice.origin == "the Django app"


def test_task_patterns_are_allowed_and_a_bad_one_is_left_to_the_checks(settings: Any) -> None:
    settings.SCHEDULER = {"TASKS": ["billing.jobs.*", "*"]}
    registry = TaskRegistry()
    allow_task_patterns(registry)
    assert registry.is_known("billing.jobs.close_month")
    assert not registry.is_known("os.system")
