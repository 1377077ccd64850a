"""Fixtures of the Celery tests: each real broker in turn, and a world around a worker.

Celery is an optional extra.  Without it these tests are skipped with the
reason, or fail under ``CI=true``, where the test legs install it; the
harness (``harness.py``) is imported only once Celery is known to be there.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .harness import World


def require_celery() -> None:
    """Skip the calling test module without Celery; under ``CI=true``, fail it."""
    if importlib.util.find_spec("celery") is not None:
        return
    message = "Celery is not installed: pip install -e '.[celery]' to run the Celery tests"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message, allow_module_level=True)


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> str:
    """The URL of each real broker in turn."""
    from .harness import BROKERS, reachable

    url = BROKERS[request.param]
    reachable(url)
    return url


@pytest.fixture
def world(tmp_path: Path, broker: str) -> Iterator[World]:
    """A store, a worker on its own queue and broker, and an engine handing runs to it."""
    from .harness import new_world

    made, close = new_world(tmp_path, broker)
    try:
        yield made
    finally:
        close()
