"""String enums whose members carry their own docstrings."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

__all__ = ["DocumentedEnum"]


class DocumentedEnum(StrEnum):
    """A string enum whose members are declared as ``NAME = value, docstring``.

    ``doc`` has a default only so that type checkers accept the value lookup
    ``CatchupPolicy("once")``, which goes through the same signature.
    """

    def __new__(cls, value: str, doc: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.__doc__ = doc
        return member
