"""Store contract: a job definition comes back from the store exactly as it was saved.

The SQL stores rebuild a definition from its row without validating every
field again; this property, over every kind of schedule, window and policy,
holds them to giving back the very spec that validation makes, on every
store and database.
"""

from __future__ import annotations

import dataclasses
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.model.policies import JobSource
from scheduler.stores.base import Store
from tests.specs import job_specs

from .helpers import NOW

_names = itertools.count()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_saved_definition_reads_back_equal_field_by_field(
    store: Store, data: st.DataObject
) -> None:
    spec = data.draw(job_specs(name=f"round-trip-{next(_names)}"))
    saved = store.save_job(spec, now=NOW)
    read = store.get_job(spec.name).spec
    assert saved.spec == read == spec
    for value in (read, read.policy):
        for field in dataclasses.fields(value):
            ours = getattr(value, field.name)
            theirs = getattr(spec.policy if value is read.policy else spec, field.name)
            assert type(ours) is type(theirs), field.name
    assert read.definition_hash() == spec.definition_hash() == saved.definition_hash
    assert [job.spec for job in store.list_jobs() if job.spec.name == spec.name] == [spec]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_synced_batch_of_unlike_definitions_reads_back_equal(
    store: Store, data: st.DataObject
) -> None:
    """A sync writes its new jobs a batch per statement (on PostgreSQL one
    insert of arrays, the columns alike across the batch sent once): jobs
    that differ anywhere, drawn together, still come back each as given."""
    batch = next(_names)
    count = data.draw(st.integers(min_value=2, max_value=6))
    specs = [
        dataclasses.replace(data.draw(job_specs(name=f"batch-{batch}-{n}")), source=JobSource.CODE)
        for n in range(count)
    ]
    report = store.sync_jobs(specs, source=JobSource.CODE, now=NOW)
    assert report.added == tuple(sorted(spec.name for spec in specs))
    for spec in specs:
        read = store.get_job(spec.name)
        assert read.spec == spec
        assert read.definition_hash == spec.definition_hash()
