"""Filters and keyset pages as readable SQL, for every list the API offers.

A list query is: the caller's scope (always the tenant), an optional filter
tree, a sort, and a keyset position. The SQL that comes out binds every
value as a parameter and orders by columns that have an index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg


@dataclass(frozen=True)
class Column:
    name: str  # the key used by callers and in cursors
    sql: str  # the SQL expression, e.g. "label"
    pg_type: str  # for parameter casts: text, uuid, timestamptz, ...
    unique: bool = False  # within the scope: sorting by it needs no tie-break


@dataclass(frozen=True)
class SortKey:
    column: Column
    descending: bool = False
    nulls_first: bool | None = None  # None: PostgreSQL's default for the direction

    def flipped(self) -> SortKey:
        nulls = None if self.nulls_first is None else not self.nulls_first
        return SortKey(self.column, not self.descending, nulls)

    def order_sql(self) -> str:
        sql = self.column.sql + (" DESC" if self.descending else " ASC")
        if self.nulls_first is not None:
            sql += " NULLS FIRST" if self.nulls_first else " NULLS LAST"
        return sql


# --- filters ----------------------------------------------------------------


@dataclass(frozen=True)
class Cmp:
    column: Column
    op: str
    value: Any


@dataclass(frozen=True)
class And:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    part: Filter


Filter = Cmp | And | Or | Not

_BINARY = {
    "eq": "=",
    "not_eq": "<>",
    "less_than": "<",
    "greater_than": ">",
    "less_than_or_equal": "<=",
    "greater_than_or_equal": ">=",
    "is_distinct_from": "IS DISTINCT FROM",
    "is_not_distinct_from": "IS NOT DISTINCT FROM",
    "like": "LIKE",
    "ilike": "ILIKE",
}
OPERATORS = frozenset(
    [*_BINARY, "is_nil", "in", "contains", "string_starts_with", "string_ends_with"]
)


class Params:
    """Collects bound values and hands out their $n placeholders."""

    def __init__(self, initial: list[Any] | None = None) -> None:
        self.values: list[Any] = list(initial or [])

    def add(self, value: Any, pg_type: str) -> str:
        self.values.append(value)
        return f"${len(self.values)}::{pg_type}"


def filter_sql(f: Filter, params: Params) -> str:
    if isinstance(f, And):
        return (
            "(" + " AND ".join(filter_sql(p, params) for p in f.parts) + ")" if f.parts else "TRUE"
        )
    if isinstance(f, Or):
        return (
            "(" + " OR ".join(filter_sql(p, params) for p in f.parts) + ")" if f.parts else "FALSE"
        )
    if isinstance(f, Not):
        return f"(NOT {filter_sql(f.part, params)})"
    col, op, value = f.column, f.op, f.value
    if op == "is_nil":
        return f"({col.sql} IS {'' if value else 'NOT '}NULL)"
    if op == "in":
        return f"({col.sql} = ANY({params.add(list(value), col.pg_type + '[]')}))"
    if op == "contains":
        return f"(strpos({col.sql}, {params.add(value, 'text')}) > 0)"
    if op == "string_starts_with":
        return f"starts_with({col.sql}, {params.add(value, 'text')})"
    if op == "string_ends_with":
        p = params.add(value, "text")
        return f"(right({col.sql}, char_length({p})) = {p})"
    pg_type = "text" if op in ("like", "ilike") else col.pg_type
    return f"({col.sql} {_BINARY[op]} {params.add(value, pg_type)})"


# --- keyset pages -------------------------------------------------------------


def complete_sort(sort: list[SortKey], tie_break: Column) -> list[SortKey]:
    """Cut the sort after its first unique column, or append the tie-break.

    A keyset needs a total order; a unique column already is one.
    """
    out: list[SortKey] = []
    for key in sort:
        if any(k.column.name == key.column.name for k in out):
            continue
        out.append(key)
        if key.column.unique:
            return out
    out.append(SortKey(tie_break))
    return out


def _after_sql(sort: list[SortKey], values: tuple[Any, ...], params: Params) -> str:
    """Rows strictly after `values` in `sort` order."""
    placeholders = [params.add(v, k.column.pg_type) for k, v in zip(sort, values, strict=True)]
    if len({k.descending for k in sort}) == 1:
        # One direction: a row comparison, which a b-tree index answers directly.
        op = "<" if sort[0].descending else ">"
        cols = ", ".join(k.column.sql for k in sort)
        return f"(({cols}) {op} ({', '.join(placeholders)}))"
    ors = []
    for i, key in enumerate(sort):
        eqs = [f"{k.column.sql} = {p}" for k, p in zip(sort[:i], placeholders[:i], strict=True)]
        op = "<" if key.descending else ">"
        ors.append("(" + " AND ".join([*eqs, f"{key.column.sql} {op} {placeholders[i]}"]) + ")")
    return "(" + " OR ".join(ors) + ")"


@dataclass(frozen=True)
class ListQuery:
    """What a list asks for, in store terms (no GraphQL, no cursors)."""

    columns: str  # the select list, e.g. "id, label, username, inserted_at"
    source: str  # the FROM clause, e.g. "image_credentials"
    scope: str  # "tenant_id = $1"
    scope_args: tuple[Any, ...]
    filter: Filter | None
    sort: list[SortKey]  # complete: ends in a unique column

    def _where(self, params: Params) -> list[str]:
        where = [self.scope]
        if self.filter is not None:
            where.append(filter_sql(self.filter, params))
        return where


TOTAL = "__total"  # the extra column fetch_page adds when asked for the count


async def fetch_page(
    conn: asyncpg.Connection,
    q: ListQuery,
    *,
    limit: int,
    after: tuple[Any, ...] | None = None,
    before: tuple[Any, ...] | None = None,
    backward: bool = False,
    with_total: bool = False,
) -> tuple[list[asyncpg.Record], bool, int | None]:
    """One page, whether more rows lie beyond it in the direction of travel,
    and (with_total) how many rows match the filter on all pages.

    Rows lie strictly between `after` and `before` (either may be None).
    Forwards: the first `limit` of them; backwards: the last `limit`, returned
    in sort order. Fetches one extra row to know whether there is more. The
    total rides along as an uncorrelated subquery, which PostgreSQL runs once:
    one round trip instead of two. An empty page carries no total (None).
    """
    params = Params(list(q.scope_args))
    matching = q._where(params)
    where = list(matching)
    if after is not None:
        where.append(_after_sql(q.sort, after, params))
    if before is not None:
        where.append(_after_sql([k.flipped() for k in q.sort], before, params))
    order = [k.flipped() for k in q.sort] if backward else q.sort
    limit_p = params.add(limit + 1, "int")
    columns = q.columns
    if with_total:
        columns += f", (SELECT count(*) FROM {q.source} WHERE {' AND '.join(matching)}) AS {TOTAL}"
    sql = (
        f"SELECT {columns} FROM {q.source} WHERE {' AND '.join(where)} "
        f"ORDER BY {', '.join(k.order_sql() for k in order)} LIMIT {limit_p}"
    )
    rows = await conn.fetch(sql, *params.values)
    total = rows[0][TOTAL] if with_total and rows else None
    more = len(rows) > limit
    rows = rows[:limit]
    if backward:
        rows.reverse()
    return rows, more, total


async def exists_beyond(
    conn: asyncpg.Connection, q: ListQuery, position: tuple[Any, ...], *, backward: bool
) -> bool:
    """Whether any row lies at or before `position` (forwards) or at or after it.

    Answers hasPreviousPage for an `after` cursor (and hasNextPage for `before`).
    """
    sort = q.sort if backward else [k.flipped() for k in q.sort]
    params = Params(list(q.scope_args))
    where = q._where(params)
    cols = ", ".join(k.column.sql for k in sort)
    strictly = _after_sql(sort, position, params)
    at = ", ".join(params.add(v, k.column.pg_type) for k, v in zip(sort, position, strict=True))
    where.append(f"({strictly} OR ({cols}) = ({at}))")
    sql = f"SELECT EXISTS (SELECT 1 FROM {q.source} WHERE {' AND '.join(where)})"
    return await conn.fetchval(sql, *params.values)


async def count(conn: asyncpg.Connection, q: ListQuery) -> int:
    params = Params(list(q.scope_args))
    sql = f"SELECT count(*) FROM {q.source} WHERE {' AND '.join(q._where(params))}"
    return await conn.fetchval(sql, *params.values)


# --- one page per parent, for connections nested under a list -------------------
#
# `Application.releases` inside `listApplications` asks for the same page of
# releases under every application listed. These run it for all parents in one
# statement each, so a list of N parents costs the same few queries as one.


def _partition_keys(partition: Column, keys: list[Any], params: Params) -> str:
    return params.add(list(keys), partition.pg_type + "[]")


async def fetch_pages(
    conn: asyncpg.Connection,
    q: ListQuery,
    partition: Column,
    keys: list[Any],
    *,
    limit: int,
    after: tuple[Any, ...] | None = None,
    before: tuple[Any, ...] | None = None,
    backward: bool = False,
) -> dict[Any, tuple[list[asyncpg.Record], bool]]:
    """`fetch_page` for every key of `partition` at once: key -> (rows, more).

    A LATERAL subquery runs the keyset query once per key, so each parent's
    page is read from its own index range and stops after `limit + 1` rows,
    however many rows the parent has. Rows carry two extra columns,
    `_partition` and `_n` (the row's place in its page).
    """
    params = Params(list(q.scope_args))
    where = q._where(params)
    if after is not None:
        where.append(_after_sql(q.sort, after, params))
    if before is not None:
        where.append(_after_sql([k.flipped() for k in q.sort], before, params))
    sort = [k.flipped() for k in q.sort] if backward else q.sort
    order = ", ".join(k.order_sql() for k in sort)
    keys_p = _partition_keys(partition, keys, params)
    limit_p = params.add(limit + 1, "int")
    sql = (
        f"SELECT page.* FROM unnest({keys_p}) AS part(_key) CROSS JOIN LATERAL ("
        f"SELECT {q.columns}, part._key AS _partition, row_number() OVER (ORDER BY {order}) AS _n"
        f" FROM {q.source} WHERE {' AND '.join(where)} AND {partition.sql} = part._key"
        f" ORDER BY {order} LIMIT {limit_p}) AS page"
    )
    grouped: dict[Any, list[asyncpg.Record]] = {key: [] for key in keys}
    for row in await conn.fetch(sql, *params.values):
        grouped[row["_partition"]].append(row)
    pages: dict[Any, tuple[list[asyncpg.Record], bool]] = {}
    for key, rows in grouped.items():
        rows.sort(key=lambda r: r["_n"])
        more = len(rows) > limit
        rows = rows[:limit]
        if backward:
            rows.reverse()
        pages[key] = (rows, more)
    return pages


async def exists_beyond_many(
    conn: asyncpg.Connection,
    q: ListQuery,
    partition: Column,
    keys: list[Any],
    position: tuple[Any, ...],
    *,
    backward: bool,
) -> set[Any]:
    """`exists_beyond` for every key at once: the keys that have such a row."""
    sort = q.sort if backward else [k.flipped() for k in q.sort]
    params = Params(list(q.scope_args))
    where = q._where(params)
    cols = ", ".join(k.column.sql for k in sort)
    strictly = _after_sql(sort, position, params)
    at = ", ".join(params.add(v, k.column.pg_type) for k, v in zip(sort, position, strict=True))
    where.append(f"({strictly} OR ({cols}) = ({at}))")
    keys_p = _partition_keys(partition, keys, params)
    sql = (
        f"SELECT part._key FROM unnest({keys_p}) AS part(_key) WHERE EXISTS ("
        f"SELECT 1 FROM {q.source} WHERE {' AND '.join(where)} AND {partition.sql} = part._key)"
    )
    return {row["_key"] for row in await conn.fetch(sql, *params.values)}


async def count_many(
    conn: asyncpg.Connection, q: ListQuery, partition: Column, keys: list[Any]
) -> dict[Any, int]:
    """`count` for every key at once; keys without rows are absent."""
    params = Params(list(q.scope_args))
    where = q._where(params)
    keys_p = _partition_keys(partition, keys, params)
    sql = (
        f"SELECT {partition.sql} AS _partition, count(*) AS _count FROM {q.source}"
        f" WHERE {' AND '.join(where)} AND {partition.sql} = ANY({keys_p}) GROUP BY 1"
    )
    return {row["_partition"]: row["_count"] for row in await conn.fetch(sql, *params.values)}
