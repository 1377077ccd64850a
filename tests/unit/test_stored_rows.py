"""Rows and back: a spec read from the row it was stored as is the spec that was stored.

The SQL stores rebuild specs from their rows without validating every field
again (:func:`~scheduler.model.jobs.trusted_spec`).  These properties pin that the
shortcut changes nothing: for every kind of schedule, window and policy, the
spec read back equals, field by field and type by type, the one validation
makes of the same values.  ``tests/contract/test_store_spec_round_trip.py``
does the same through every real store and database.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings

from scheduler.errors import InvalidJob
from scheduler.model.fields import FIELD_NAMES
from scheduler.model.jobs import POLICY_FIELDS, JobSpec, trusted_spec
from scheduler.stores.rows import as_stored, job_columns, spec_from_columns
from scheduler.stores.rules import new_definition
from tests.specs import job_specs

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
FIELDS = FIELD_NAMES


def flat(spec: JobSpec, name: str) -> object:
    """The value of the field ``name``, a policy one read from ``spec.policy``."""
    return getattr(spec.policy if name in POLICY_FIELDS else spec, name)


def flat_values(spec: JobSpec) -> dict[str, Any]:
    return {name: flat(spec, name) for name in FIELDS}


def validated(spec: JobSpec) -> JobSpec:
    """``spec``'s values through every check and normalisation of ``JobSpec(...)``."""
    return JobSpec.from_fields(**flat_values(spec))


def assert_same_values(read: JobSpec, expected: JobSpec) -> None:
    for name in FIELDS:
        ours, theirs = flat(read, name), flat(expected, name)
        assert ours == theirs, name
        assert type(ours) is type(theirs), name


@settings(max_examples=300, deadline=None)
@given(spec=job_specs())
def test_a_spec_read_back_from_its_row_is_the_spec_validation_makes(spec: JobSpec) -> None:
    stored = as_stored(spec)
    row = job_columns(new_definition(stored, NOW, version=1, created_at=NOW))
    read = spec_from_columns(row)
    assert read == stored
    assert_same_values(read, validated(read))
    assert_same_values(read, stored)
    assert read.definition_hash() == row["definition_hash"]
    assert hash(read) == hash(stored)


@settings(max_examples=100, deadline=None)
@given(spec=job_specs())
def test_a_trusted_spec_of_valid_values_equals_the_validated_one(spec: JobSpec) -> None:
    trusted = trusted_spec(**flat_values(spec))
    assert trusted == spec
    assert_same_values(trusted, spec)
    assert trusted.definition_hash() == spec.definition_hash()


def test_a_trusted_spec_is_frozen_and_replace_validates_it_again() -> None:
    spec = JobSpec.build(name="nightly", task="app.tasks.report", cron="30 2 * * *")
    trusted = trusted_spec(**flat_values(spec))
    with pytest.raises(dataclasses.FrozenInstanceError):
        trusted.policy.retries = 3  # type: ignore[misc]
    with pytest.raises(InvalidJob, match="retries: expected an integer from 0 to 100, got 101"):
        dataclasses.replace(trusted.policy, retries=101)


def test_a_row_without_a_schedule_is_refused() -> None:
    spec = JobSpec.build(name="nightly", task="app.tasks.report", cron="30 2 * * *")
    row = {**job_columns(new_definition(spec, NOW, version=1, created_at=NOW)), "cron": None}
    with pytest.raises(
        InvalidJob, match="'nightly': stored without cron, every_seconds, run_at or solar"
    ):
        spec_from_columns(row)
