"""Cron expressions in words, through cron-descriptor.

cron-descriptor reads a day-of-week list that mixes plain weekdays with
``5L`` or ``1#2`` as if every weekday took the suffix (``6,2#1`` becomes "the
first Saturday and Tuesday"), and ``1,L`` as "day 1 and L", so such a list
is described part by part and the parts joined: "At 09:00, only on Saturday
and on the first Tuesday of the month".  When both day fields are such lists,
only the day-of-week one is split.
"""

from __future__ import annotations

from collections.abc import Sequence

from .cron_fields import DAY_OF_MONTH, DAY_OF_WEEK, split_list

__all__ = ["describe_fields"]

_SEPARATOR = ", "


def describe_fields(fields: Sequence[str]) -> str:
    """``fields`` (five, or six with seconds last; no ``H``) as a sentence.

    Raises whatever cron-descriptor raises for an expression it cannot read.
    """
    index = DAY_OF_WEEK if len(split_list(DAY_OF_WEEK, fields[DAY_OF_WEEK])) > 1 else DAY_OF_MONTH
    texts = [
        _describe([*fields[:index], part, *fields[index + 1 :]])
        for part in split_list(index, fields[index])
    ]
    return texts[0] if len(texts) == 1 else _joined(texts)


def _describe(fields: list[str]) -> str:
    from cron_descriptor import Options, get_description

    options = Options()
    options.use_24hour_time_format = True
    options.verbose = False
    if len(fields) == 6:  # cron-descriptor wants seconds first
        fields = [fields[5], *fields[:5]]
    # cron-descriptor reads L and 15W only in capitals.
    return str(get_description(" ".join(fields).upper(), options))


def _joined(texts: Sequence[str]) -> str:
    """One sentence from several that differ only in some clauses in the middle."""
    clauses = [text.split(_SEPARATOR) for text in texts]
    shortest = min(len(each) for each in clauses)
    head = 0
    while head < shortest - 1 and len({each[head] for each in clauses}) == 1:
        head += 1
    tail = 0
    while head + tail < shortest - 1 and len({each[-1 - tail] for each in clauses}) == 1:
        tail += 1
    middles = [_SEPARATOR.join(each[head : len(each) - tail]) for each in clauses]
    first = clauses[0]
    return _SEPARATOR.join([*first[:head], " and ".join(middles), *first[len(first) - tail :]])
