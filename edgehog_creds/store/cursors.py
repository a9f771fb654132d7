"""Sorts and cursors: a keyset's total order, and the opaque strings that mark a place in it.

Cursors are base64url JSON of the sort they were made with and the row's
values in that sort, so a cursor stays valid (and checkable) under its sort
and a cursor from another sort is refused.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from binascii import b2a_base64
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import orjson

from ..domain.errors import Invalid
from ..domain.listing import Sort
from .tables import Table


def complete_sort(table: Table[Any], sort: Sequence[Sort]) -> list[Sort]:
    """The sort, or the table's default, cut after its first unique column or
    ending in `id`: a keyset needs a total order, and a unique column is one."""
    out: list[Sort] = []
    for key in sort or table.default_sort:
        if any(k.field == key.field for k in out):
            continue
        out.append(key)
        if table.column(key.field).unique:
            return out
    out.append(Sort("id"))
    return out


def order_sql(table: Table[Any], key: Sort) -> str:
    sql = table.column(key.field).sql + (" DESC" if key.descending else " ASC")
    if key.nulls_first is not None:
        sql += " NULLS FIRST" if key.nulls_first else " NULLS LAST"
    return sql


def _signature(sort: Sequence[Sort]) -> str:
    return ",".join(f"{k.field}:{'d' if k.descending else 'a'}" for k in sort)


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def cursor_encoder(sort: Sequence[Sort]) -> Callable[[Any], str]:
    """A function item -> cursor for one sort; the sort's part is encoded once."""
    prefix = b'{"s":' + orjson.dumps(_signature(sort)) + b',"v":'
    # attrgetter reads the sort fields in C; it returns a bare value for one field.
    values = attrgetter(*(k.field for k in sort))
    single = len(sort) == 1

    def encode(item: Any) -> str:
        # orjson writes datetimes as ISO 8601, tuples as arrays; asyncpg's own
        # UUID type goes through str.
        found = values(item)
        raw = prefix + orjson.dumps((found,) if single else found, default=str) + b"}"
        # base64.urlsafe_b64encode, without its two layers of Python wrappers.
        return b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode()

    return encode


def _bad() -> Any:
    raise ValueError("bad cursor value")


def _timestamptz(value: Any) -> datetime:
    """An aware datetime PostgreSQL can hold: with its offset, and within years
    1-9999 in UTC too (0001-01-01 at +14:00 is in year 0 there)."""
    if not isinstance(value, str):
        return _bad()  # type: ignore[no-any-return]
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return _bad()  # type: ignore[no-any-return]
    parsed.astimezone(UTC)  # OverflowError beyond year 1-9999 in UTC
    return parsed


def _text(value: Any) -> str:
    return value if isinstance(value, str) and "\x00" not in value else _bad()


def _integer(bits: int) -> Callable[[Any], int]:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def parse(value: Any) -> int:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return value if ok else _bad()  # type: ignore[no-any-return]

    return parse


# What a cursor's values may be, by column type: anything else is not a cursor we made.
_PARSERS: dict[str, Callable[[Any], Any]] = {
    "uuid": lambda v: uuid.UUID(v) if isinstance(v, str) else _bad(),
    "timestamptz": _timestamptz,
    "text": _text,
    "int": _integer(32),
    "bigint": _integer(64),
}


def decode_cursor(
    table: Table[Any], cursor: str, sort: Sequence[Sort], field: str
) -> tuple[Any, ...]:
    error = Invalid(field, "is not a valid cursor for this sort")
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if payload["s"] != _signature(sort) or len(payload["v"]) != len(sort):
            raise error
        return tuple(
            _PARSERS[table.column(k.field).pg_type](v)
            for k, v in zip(sort, payload["v"], strict=True)
        )
    except (
        binascii.Error,
        ValueError,
        KeyError,
        TypeError,
        OverflowError,
        orjson.JSONDecodeError,
    ) as exc:
        raise error from exc
