"""A job definition's canonical JSON and its SHA-256: what a sync compares.

The canonical JSON of a spec is, byte for byte,
``json.dumps(spec.to_dict(), sort_keys=True, separators=(",", ":"),
ensure_ascii=True)``, and its definition hash the hex SHA-256 of that text.
Stored hashes are compared across processes, Python versions and releases of
this library, so the bytes never change.

A sync computes the hash of every spec it is given, so this module builds
the same bytes with less work than that expression:

* the policy of most jobs is the shared :data:`~scheduler.model.job_policy.DEFAULT_POLICY`,
  whose encoded fields are computed once per process;
* the C encoder that ``json.dumps`` makes on every call is made once
  (where the interpreter has it; else the pure-Python encoder, same bytes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from json import encoder as json_encoder
from typing import TYPE_CHECKING, Any

from .chains import ChainWhen
from .encoding import ALL_OPTIONAL, OPTIONAL_FIELDS, encode_field, left_out
from .fields import FIELD_NAMES, JSONValue
from .job_policy import DEFAULT_POLICY, POLICY_FIELDS, JobPolicy

if TYPE_CHECKING:
    from .jobs import JobSpec

__all__ = ["canonical_json", "definition_hash", "hashed_fields"]

_OWN_FIELDS = tuple(name for name in FIELD_NAMES if name not in POLICY_FIELDS)
_OPTIONS = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": True}


def _encoder() -> Callable[[Any], str]:
    python = json.JSONEncoder(**_OPTIONS, check_circular=False)  # type: ignore[arg-type]
    make = getattr(json_encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return python.encode
    # The arguments JSONEncoder.iterencode gives it for these options.
    escape = json_encoder.encode_basestring_ascii
    iterencode = make(None, python.default, escape, None, ":", ",", True, False, True)
    return lambda value: "".join(iterencode(value, 0))


#: ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``
#: for a value without cycles (a spec's fields are JSON trees: normalised when built).
canonical_json: Callable[[Any], str] = _encoder()


def _policy_fields(policy: JobPolicy, skip: frozenset[str]) -> dict[str, JSONValue]:
    return {
        name: encode_field(getattr(policy, name), copy=False)
        for name in POLICY_FIELDS
        if name not in skip
    }


_DEFAULT_POLICY_FIELDS = _policy_fields(DEFAULT_POLICY, ALL_OPTIONAL)


def _left_out_of(spec: JobSpec) -> frozenset[str]:
    """The optional fields that ``spec``'s JSON leaves out: those holding their default."""
    return left_out(
        spec.notify.is_default,
        spec.calendar.is_default,
        spec.policy.max_memory is None,
        not spec.after,
        spec.when is ChainWhen.SUCCEEDED,
    )


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


#: The fields every spec's JSON holds that :func:`hashed_fields` writes itself,
#: each as :func:`~scheduler.model.encoding.encode_field` would, by its type.
_WRITTEN = (
    "name", "task", "schedule", "args", "kwargs", "timezone", "enabled", "start", "end",
    "executor", "queue", "description", "source",
)  # fmt: skip
_OPTIONAL_OWN = tuple(name for name in OPTIONAL_FIELDS if name not in POLICY_FIELDS)
if {*_WRITTEN, *_OPTIONAL_OWN} != set(_OWN_FIELDS):  # a field added to JobSpec, not here
    raise RuntimeError(f"hashed_fields does not write {set(_OWN_FIELDS) - set(_WRITTEN)}")


def hashed_fields(spec: JobSpec) -> dict[str, JSONValue]:
    """Every field of ``spec`` as JSON, the optional ones left out while they
    are the default: what :meth:`~scheduler.model.jobs.JobSpec.to_dict` gives,
    not in its order (the canonical JSON sorts them), sharing the spec's
    ``args`` and ``kwargs``."""
    policy, skip = spec.policy, _left_out_of(spec)
    encoded: dict[str, JSONValue] = {
        "name": spec.name,
        "task": spec.task,
        "schedule": encode_field(spec.schedule),
        "args": list(spec.args),
        "kwargs": spec.kwargs,
        "timezone": spec.timezone,
        "enabled": spec.enabled,
        "start": _instant(spec.start),
        "end": _instant(spec.end),
        "executor": spec.executor,
        "queue": spec.queue,
        "description": spec.description,
        "source": spec.source.value,
    }
    if skip is not ALL_OPTIONAL:  # the usual spec sets none of them
        for name in _OPTIONAL_OWN:
            if name not in skip:
                encoded[name] = encode_field(getattr(spec, name), copy=False)
    if policy is DEFAULT_POLICY:
        encoded.update(_DEFAULT_POLICY_FIELDS)
    else:
        encoded.update(_policy_fields(policy, skip))
    return encoded


def definition_hash(spec: JobSpec) -> str:
    """The hex SHA-256 of ``spec``'s canonical JSON."""
    canonical = canonical_json(hashed_fields(spec))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()
