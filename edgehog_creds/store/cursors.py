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
from datetime import datetime
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


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "uuid": lambda v: uuid.UUID(v) if isinstance(v, str) else _bad(),
    "timestamptz": lambda v: datetime.fromisoformat(v) if isinstance(v, str) else _bad(),
    "text": lambda v: v if isinstance(v, str) else _bad(),
    "int": lambda v: v if isinstance(v, int) and not isinstance(v, bool) else _bad(),
    "bigint": lambda v: v if isinstance(v, int) and not isinstance(v, bool) else _bad(),
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
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise error from exc
