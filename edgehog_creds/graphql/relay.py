"""Relay plumbing shared by every type: global ids, cursors, connections.

Global ids are base64 of "Type:uuid", as Edgehog's (Absinthe/Ash) ids are.
Cursors are base64url JSON of the sort they were made with and the row's
values in that sort, so a cursor stays valid (and checkable) under its sort.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from binascii import b2a_base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from operator import itemgetter
from typing import Any, Generic, TypeVar

import asyncpg
import orjson
import strawberry
from graphql import FieldNode

from ..errors import Invalid, InvalidPrimaryKey, raise_all
from ..store import query as q

MAX_PAGE = 250
NodeT = TypeVar("NodeT")


# --- global ids ---------------------------------------------------------------


def to_global_id(type_name: str, id: uuid.UUID) -> strawberry.ID:
    # binascii directly: a page of 50 rows makes 50 of these, and base64's
    # wrappers (and strawberry.ID, a NewType) were half the cost.
    return b2a_base64(f"{type_name}:{id}".encode(), newline=False).decode()  # type: ignore[return-value]


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


def id_filter(type_name: str, field: str) -> Callable[[str], uuid.UUID]:
    """For to_filter: a filter value given as a global id of `type_name`, named `field`."""
    return lambda value: from_global_id(value, type_name, field)


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
    # Counted only when the query selects it (PageArgs.count): a COUNT over a
    # large tenant is not free. Plain data, so execution.py serialises it.
    count: int | None = strawberry.field(description="Total matching the filter, across all pages.")


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


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def cursor_encoder(sort: Sequence[q.SortKey]) -> Callable[[Any], str]:
    """A function row -> cursor for one sort; the sort's part is encoded once."""
    prefix = b'{"s":' + orjson.dumps(_signature(sort)) + b',"v":'
    # itemgetter reads the sort columns in C (a list comprehension here was a
    # quarter of a cursor's cost); it returns a bare value for a single column.
    values = itemgetter(*(k.column.name for k in sort))
    single = len(sort) == 1

    def encode(row: Any) -> str:
        # orjson writes datetimes as ISO 8601, tuples as arrays; asyncpg's own
        # UUID type goes through str.
        found = values(row)
        raw = prefix + orjson.dumps((found,) if single else found, default=str) + b"}"
        # base64.urlsafe_b64encode, without its two layers of Python wrappers.
        return b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode()

    return encode


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "uuid": lambda v: uuid.UUID(v) if isinstance(v, str) else _bad(),
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
    """The page a query asks for: its arguments, and whether it selects `count`."""

    first: int | None = None
    last: int | None = None
    after: str | None = None
    before: str | None = None
    count: bool = False


def page_args(
    info: Any, first: int | None, last: int | None, after: str | None, before: str | None
) -> PageArgs:
    return PageArgs(first, last, after, before, count=selects(info, "count"))


def _check_page_args(args: PageArgs) -> None:
    errors = []
    if args.first is not None and args.last is not None:
        errors.append(Invalid("first", "cannot be combined with last"))
    for name in ("first", "last"):
        value = getattr(args, name)
        if value is not None and not 0 <= value <= MAX_PAGE:
            errors.append(Invalid(name, f"must be between 0 and {MAX_PAGE}"))
    raise_all(errors)


def selects(info: Any, name: str) -> bool:
    """Whether the query asks this field for `name` (fragments count as yes)."""
    for node in info._raw_info.field_nodes:
        for selection in node.selection_set.selections if node.selection_set else ():
            if not isinstance(selection, FieldNode) or selection.name.value == name:
                return True
    return False


async def paginate(
    pool: asyncpg.Pool,
    query: q.ListQuery,
    args: PageArgs,
    to_node: Callable[[asyncpg.Record], NodeT],
) -> Connection[NodeT]:
    """A Relay connection over `query`, keyset-paginated in either direction.

    When the query selects `count` it comes with the page, in the same query.
    """
    limit, backward, positions = _page_plan(query.sort, args)
    async with pool.acquire() as conn:
        rows, more, total = await q.fetch_page(
            conn,
            query,
            limit=limit,
            after=positions.get("after"),
            before=positions.get("before"),
            backward=backward,
            with_total=args.count,
        )
        # The other direction: is there anything on the far side of the cursor
        # we started from? Only asked when a cursor was given.
        start = positions.get("before" if backward else "after")
        beyond = (
            await q.exists_beyond(conn, query, start, backward=backward)
            if start is not None
            else False
        )
        if args.count and total is None:  # an empty page carries no total
            total = await q.count(conn, query)

    encode = cursor_encoder(query.sort)
    edges = [Edge(cursor=encode(r), node=to_node(r)) for r in rows]
    page_info = _page_info(edges, more=more, beyond=beyond, backward=backward)
    return Connection(page_info=page_info, edges=edges, count=total)


# --- connections nested under a list ----------------------------------------------
#
# A connection field on every item of a list (each application's `releases`)
# would cost one query per item. `paginate_many` answers all of them with the
# same queries `paginate` runs for one; `paginate_list` pages a list that a
# DataLoader already fetched whole (a release's few containers).


def _page_plan(sort: Sequence[q.SortKey], args: PageArgs) -> tuple[int, bool, dict[str, tuple]]:
    """Checked page arguments: (limit, backward, decoded cursors by argument name)."""
    _check_page_args(args)
    backward = args.last is not None
    limit = args.last if backward else (args.first if args.first is not None else MAX_PAGE)
    assert limit is not None
    positions: dict[str, tuple] = {}
    errors = []
    for name in ("after", "before"):
        cursor = getattr(args, name)
        if cursor is not None:
            try:
                positions[name] = decode_cursor(cursor, sort, name)
            except Invalid as exc:
                errors.append(exc)
    raise_all(errors)
    return limit, backward, positions


def _page_info(edges: list[Edge[Any]], *, more: bool, beyond: bool, backward: bool) -> PageInfo:
    return PageInfo(
        has_previous_page=more if backward else beyond,
        has_next_page=beyond if backward else more,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


async def paginate_many(
    pool: asyncpg.Pool,
    query: q.ListQuery,
    partition: q.Column,
    keys: Sequence[Any],
    args: PageArgs,
    to_node: Callable[[asyncpg.Record], NodeT],
) -> list[Connection[NodeT]]:
    """One connection per key (rows whose `partition` column equals it), in key order.

    One query for all the pages, one more only when a cursor is given, and,
    when the query selects `count`, one GROUP BY for all of them.
    """
    limit, backward, positions = _page_plan(query.sort, args)
    keys = list(keys)
    async with pool.acquire() as conn:
        pages = await q.fetch_pages(
            conn,
            query,
            partition,
            keys,
            limit=limit,
            after=positions.get("after"),
            before=positions.get("before"),
            backward=backward,
        )
        start = positions.get("before" if backward else "after")
        beyond = (
            await q.exists_beyond_many(conn, query, partition, keys, start, backward=backward)
            if start is not None
            else set()
        )
        counts = await q.count_many(conn, query, partition, keys) if args.count else None

    encode = cursor_encoder(query.sort)
    connections = []
    for key in keys:
        rows, more = pages[key]
        edges = [Edge(cursor=encode(r), node=to_node(r)) for r in rows]
        page_info = _page_info(edges, more=more, beyond=key in beyond, backward=backward)
        count = counts.get(key, 0) if counts is not None else None
        connections.append(Connection(page_info=page_info, edges=edges, count=count))
    return connections


ItemT = TypeVar("ItemT")


def paginate_list(
    items: Sequence[ItemT],
    sort: Sequence[q.SortKey],
    args: PageArgs,
    values: Callable[[ItemT], dict[str, Any]],
    to_node: Callable[[ItemT], NodeT],
) -> Connection[NodeT]:
    """A connection over `items`, already in ascending `sort` order, held in memory.

    Same arguments, limits and cursors as `paginate` over the same sort, so a
    client cannot tell the difference. `values(item)` gives the sort columns.
    """
    assert not any(k.descending for k in sort), "paginate_list pages ascending sorts only"
    limit, backward, positions = _page_plan(sort, args)
    keyed = [(tuple(values(item)[k.column.name] for k in sort), item) for item in items]
    after, before = positions.get("after"), positions.get("before")
    window = [
        (key, item)
        for key, item in keyed
        if (after is None or key > after) and (before is None or key < before)
    ]
    more = len(window) > limit
    page = window[max(len(window) - limit, 0) :] if backward else window[:limit]
    start = before if backward else after
    if start is None:
        beyond = False
    elif backward:
        beyond = any(key >= start for key, _ in keyed)
    else:
        beyond = any(key <= start for key, _ in keyed)
    encode = cursor_encoder(sort)
    edges = [Edge(cursor=encode(values(item)), node=to_node(item)) for _, item in page]
    return Connection(
        page_info=_page_info(edges, more=more, beyond=beyond, backward=backward),
        edges=edges,
        count=len(items),
    )
