"""The store contract on a run table partitioned by month (``contrib/postgres/partition_runs.sql``).

The contract modules about runs run again here, unchanged, on the SQLAlchemy
store and the Django store, each on PostgreSQL after the script has turned
``scheduler_run`` into a partitioned table (primary key ``(id,
scheduled_for)``, the slot constraint on every partition, a DEFAULT
partition).  The contract's clock sits on a month boundary, so its runs land
in two month partitions and in the DEFAULT one.  The job contract
(``test_store_contract.py``, ``test_store_spec_round_trip.py``) touches no run
row and is not repeated.
"""

from __future__ import annotations

import pytest

from tests.contract import (
    test_store_chains,
    test_store_claims,
    test_store_concurrency,
    test_store_joins,
    test_store_prune_one_offs,
    test_store_recovery,
    test_store_runs,
    test_store_worker_runs,
)
from tests.contract.test_store_runs import run  # noqa: F401 - the fixture its tests use

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize(
        "store", ["postgres-partitioned", "django-postgres-partitioned"], indirect=True
    ),
]

_RUN_CONTRACT = (
    test_store_chains,
    test_store_claims,
    test_store_concurrency,
    test_store_joins,
    test_store_prune_one_offs,
    test_store_recovery,
    test_store_runs,
    test_store_worker_runs,
)

# Every test of those modules, under its own name (no two modules share one).
for _module in _RUN_CONTRACT:
    for _name, _test in vars(_module).items():
        if _name.startswith("test_") and callable(_test):
            assert _name not in globals(), f"{_name} is in two contract modules"
            globals()[_name] = _test
