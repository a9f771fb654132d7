"""Edgehog-style filter inputs, turned into store filter trees.

Every field filter has the operators Edgehog's Ash API offers; several
operators in one object, and several fields in one filter, all must hold.
`and`/`or`/`not` nest; `not: [a, b]` is NOT (a AND b); `{}` is no filter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from ..errors import DomainError, raise_all
from ..store import query as q


@strawberry.input
class StringFilter:
    is_nil: bool | None = None
    eq: str | None = None
    not_eq: str | None = None
    in_: list[str] | None = strawberry.field(name="in", default=None)
    less_than: str | None = None
    greater_than: str | None = None
    less_than_or_equal: str | None = None
    greater_than_or_equal: str | None = None
    contains: str | None = None
    is_distinct_from: str | None = None
    is_not_distinct_from: str | None = None
    string_starts_with: str | None = None
    string_ends_with: str | None = None
    like: str | None = None
    ilike: str | None = None


@strawberry.input
class IdFilter:
    is_nil: bool | None = None
    eq: strawberry.ID | None = None
    not_eq: strawberry.ID | None = None
    in_: list[strawberry.ID] | None = strawberry.field(name="in", default=None)
    is_distinct_from: strawberry.ID | None = None
    is_not_distinct_from: strawberry.ID | None = None


def _attr(op: str) -> str:
    return "in_" if op == "in" else op


# (operator, input attribute), in a fixed order so the SQL text is stable.
_OPERATORS = tuple((op, _attr(op)) for op in sorted(q.OPERATORS))


def field_conditions(
    column: q.Column,
    field_filter: Any,
    convert: Callable[[Any], Any] | None = None,
) -> list[q.Filter]:
    out: list[q.Filter] = []
    for op, attr in _OPERATORS:
        value = getattr(field_filter, attr, None)
        if value is None:
            continue
        if convert is not None and op != "is_nil":
            value = [convert(v) for v in value] if op == "in" else convert(value)
        out.append(q.Cmp(column, op, value))
    return out


def to_filter(
    filter_input: Any,
    columns: dict[str, q.Column],
    converters: dict[str, Callable[[Any], Any]] | None = None,
) -> q.Filter | None:
    """Turn a filter input into a store filter, or None for an empty one."""
    if filter_input is None:
        return None
    converters = converters or {}
    errors: list[DomainError] = []
    parts: list[q.Filter] = []
    for name, column in columns.items():
        field_filter = getattr(filter_input, name, None)
        if field_filter is not None:
            try:
                parts.extend(field_conditions(column, field_filter, converters.get(name)))
            except DomainError as exc:
                errors.append(exc)
    raise_all(errors)
    for sub in getattr(filter_input, "and_", None) or []:
        f = to_filter(sub, columns, converters)
        if f is not None:
            parts.append(f)
    ors = [to_filter(sub, columns, converters) for sub in getattr(filter_input, "or_", None) or []]
    # An empty alternative matches everything, which makes the whole OR true.
    if ors and all(o is not None for o in ors):
        parts.append(q.Or(tuple(o for o in ors if o is not None)))
    nots = [
        to_filter(sub, columns, converters) for sub in getattr(filter_input, "not_", None) or []
    ]
    if nots:
        inner = [n for n in nots if n is not None]
        parts.append(q.Not(q.And(tuple(inner))) if inner else q.Or(()))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else q.And(tuple(parts))
