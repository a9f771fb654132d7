"""Relay plumbing shared by every type: global ids, cursors, connections.

Global ids are base64 of "Type:uuid", as Edgehog's (Absinthe/Ash) ids are.
Cursors are base64url JSON of the sort they were made with and the row's
values in that sort, so a cursor stays valid (and checkable) under its sort.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar

import asyncpg
import orjson
import strawberry

from ..errors import DomainErrors, Invalid, InvalidPrimaryKey, raise_all
from ..store import query as q

MAX_PAGE = 250
NodeT = TypeVar("NodeT")


# --- global ids ---------------------------------------------------------------


def to_global_id(type_name: str, id: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(base64.b64encode(f"{type_name}:{id}".encode()).decode())


def parse_global_id(value: str) -> tuple[str, uuid.UUID] | None:
    try:
        decoded = base64.b64decode(value, validate=True).decode()
        type_name, _, raw = decoded.partition(":")
        return type_name, uuid.UUID(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def from_global_id(value: str, type_name: str, field: str = "id") -> uuid.UUID:
    parsed = parse_global_id(value)
    if parsed is None or parsed[0] != type_name:
        raise InvalidPrimaryKey(field)
    return parsed[1]


@strawberry.interface(description="An object with a global id.")
class Node:
    id: strawberry.ID


# --- pagination types -----------------------------------------------------------


@strawberry.type
class PageInfo:
    has_previous_page: bool
    has_next_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    page_info: PageInfo
    edges: list[Edge[NodeT]] | None
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Total matching the filter, across all pages.")
    async def count(self) -> int | None:
        # Only runs when asked for: a COUNT over a large tenant is not free.
        return await self._count()


@strawberry.enum
class SortOrder(Enum):
    ASC = "asc"
    ASC_NULLS_FIRST = "asc_nulls_first"
    ASC_NULLS_LAST = "asc_nulls_last"
    DESC = "desc"
    DESC_NULLS_FIRST = "desc_nulls_first"
    DESC_NULLS_LAST = "desc_nulls_last"


def sort_key(column: q.Column, order: SortOrder | None) -> q.SortKey:
    order = order or SortOrder.ASC
    nulls_first = (
        True if "nulls_first" in order.value else False if "nulls_last" in order.value else None
    )
    return q.SortKey(column, order.value.startswith("desc"), nulls_first)


# --- cursors --------------------------------------------------------------------


def _signature(sort: Sequence[q.SortKey]) -> str:
    return ",".join(f"{k.column.name}:{'d' if k.descending else 'a'}" for k in sort)


def _cursor_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID | datetime):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    return value


def encode_cursor(sort: Sequence[q.SortKey], row: asyncpg.Record) -> str:
    payload = {"s": _signature(sort), "v": [_cursor_value(row[k.column.name]) for k in sort]}
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "uuid": lambda v: uuid.UUID(v),
    "timestamptz": lambda v: datetime.fromisoformat(v),
    "text": lambda v: v if isinstance(v, str) else _bad(),
    "int": lambda v: v if isinstance(v, int) and not isinstance(v, bool) else _bad(),
    "bigint": lambda v: v if isinstance(v, int) and not isinstance(v, bool) else _bad(),
}


def _bad() -> Any:
    raise ValueError("bad cursor value")


def decode_cursor(cursor: str, sort: Sequence[q.SortKey], field: str) -> tuple[Any, ...]:
    error = Invalid(field, "is not a valid cursor for this sort")
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if payload["s"] != _signature(sort) or len(payload["v"]) != len(sort):
            raise error
        return tuple(_PARSERS[k.column.pg_type](v) for k, v in zip(sort, payload["v"], strict=True))
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise error from exc


# --- connections ----------------------------------------------------------------


@dataclass(frozen=True)
class PageArgs:
    first: int | None = None
    last: int | None = None
    after: str | None = None
    before: str | None = None


def _check_page_args(args: PageArgs) -> None:
    errors = []
    if args.first is not None and args.last is not None:
        errors.append(Invalid("first", "cannot be combined with last"))
    for name in ("first", "last"):
        value = getattr(args, name)
        if value is not None and not 0 <= value <= MAX_PAGE:
            errors.append(Invalid(name, f"must be between 0 and {MAX_PAGE}"))
    raise_all(errors)


async def paginate(
    pool: asyncpg.Pool,
    query: q.ListQuery,
    args: PageArgs,
    to_node: Callable[[asyncpg.Record], NodeT],
) -> Connection[NodeT]:
    """A Relay connection over `query`, keyset-paginated in either direction."""
    _check_page_args(args)
    backward = args.last is not None
    limit = args.last if backward else (args.first if args.first is not None else MAX_PAGE)
    positions = {}
    errors = []
    for name in ("after", "before"):
        cursor = getattr(args, name)
        if cursor is not None:
            try:
                positions[name] = decode_cursor(cursor, query.sort, name)
            except Invalid as exc:
                errors.append(exc)
    raise_all(errors)

    async with pool.acquire() as conn:
        rows, more = await q.fetch_page(
            conn,
            query,
            limit=limit,
            after=positions.get("after"),
            before=positions.get("before"),
            backward=backward,
        )
        # The other direction: is there anything on the far side of the cursor
        # we started from? Only asked when a cursor was given.
        start = positions.get("before" if backward else "after")
        beyond = (
            await q.exists_beyond(conn, query, start, backward=backward)
            if start is not None
            else False
        )

    edges = [Edge(cursor=encode_cursor(query.sort, r), node=to_node(r)) for r in rows]
    page_info = PageInfo(
        has_previous_page=more if backward else beyond,
        has_next_page=beyond if backward else more,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )

    async def count() -> int:
        async with pool.acquire() as conn:
            return await q.count(conn, query)

    return Connection(page_info=page_info, edges=edges, _count=count)


__all__ = ["Connection", "DomainErrors", "Edge", "PageArgs", "PageInfo", "SortOrder", "paginate"]
