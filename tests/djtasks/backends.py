"""A Django tasks backend that runs tasks in order and has no priorities, as some do:
the executor must refuse a priority on it when it is built."""

from __future__ import annotations

from typing import Any

from scheduler.django.tasks import framework_module

BaseTaskBackend: Any = framework_module("backends.base").BaseTaskBackend


class FifoBackend(BaseTaskBackend):  # type: ignore[misc]
    supports_priority = False

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        raise NotImplementedError("configuration tests never enqueue on it")
