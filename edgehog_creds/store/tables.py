"""A table as the store reads it, and the SQL every table shares: rows by id, deletes.

A table is a row dataclass and its columns (`Table`): the columns are the
dataclass's fields, selected in order. Lists of a table (filters, sorts,
keyset pages) are in pages.py, their cursors in cursors.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Generic, TypeVar, get_args, get_type_hints

import asyncpg

from ..db import Connection
from ..domain.listing import Sort

T = TypeVar("T")
K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Relation:
    """A row of another table this table's rows point to, for filters on it.

    `column` holds the id of the row of `target` (a release's `application_id`).
    """

    column: str
    target: Table[Any]


@dataclass(frozen=True, slots=True)
class Many:
    """Rows of another table related to this table's rows, for filters on them
    (an application's releases). `join` is the SQL condition tying a row of
    `target` ({inner}) to a row of this table ({outer})."""

    join: str
    target: Table[Any]


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # the domain field: filters, sorts and cursors use it
    sql: str  # the SQL expression, e.g. "label"
    pg_type: str  # for parameter casts: text, uuid, timestamptz, ...
    unique: bool = False  # within a tenant: sorting by it needs no tie-break


# How a row dataclass's field types are stored (what a cursor or filter value
# is cast to); fields of other types can be selected but not filtered or sorted by.
_PG_TYPES: dict[Any, str] = {
    uuid.UUID: "uuid",
    str: "text",
    datetime: "timestamptz",
    int: "int",
    bool: "boolean",
}


def _pg_type(annotation: Any) -> str | None:
    members = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    return _PG_TYPES.get(members[0]) if len(members) == 1 else None


class Table(Generic[T]):
    """One table as the store reads it: the dataclass a row becomes, and its columns.

    A row's columns are its dataclass's fields, same names, same order:
    they are selected in that order and passed positionally to it. `unique`
    names the columns unique within a tenant (sorting by one needs no
    tie-break). A table whose rows need decoding (JSON, arrays) gives its own
    `from_record` and `select` (its fields are then read by name).
    """

    def __init__(
        self,
        source: str,
        row_type: type[T],
        *,
        unique: Sequence[str] = ("id",),
        default_sort: Sequence[str] = ("inserted_at", "id"),
        from_record: Callable[[asyncpg.Record], T] | None = None,
        select: str | None = None,
        relations: dict[str, Relation | Many] | None = None,
    ) -> None:
        hints = get_type_hints(row_type)
        names = [f.name for f in fields(row_type)]  # type: ignore[arg-type]
        self.source = source
        # How the table is named in SQL (its name, or the alias of a
        # subquery), and what to select from under another alias.
        body, _, alias = source.rpartition(" AS ") if source.startswith("(") else ("", "", "")
        self.alias = alias or source
        self.body = body or source
        self.relations = relations or {}
        self.columns = {
            name: Column(name, name, pg_type, name in unique)
            for name in names
            if (pg_type := _pg_type(hints[name])) is not None
        }
        self.select = select or ", ".join(names)
        self.default_sort = tuple(Sort(name) for name in default_sort)
        width = len(names)
        self.from_record: Callable[[asyncpg.Record], T] = from_record or (
            lambda record: row_type(*record[:width])
        )

    def column(self, name: str) -> Column:
        return self.columns[name]


async def by_ids(
    conn: Connection, table: Table[T], tenant_id: uuid.UUID, ids: Sequence[Any], key: str = "id"
) -> dict[Any, T]:
    """The tenant's rows whose `key` column is one of `ids`, by that key."""
    column = table.column(key)
    rows = await conn.fetch(
        f"SELECT {table.select} FROM {table.source}"
        f" WHERE tenant_id = $1 AND {column.sql} = ANY($2::{column.pg_type}[])",
        tenant_id,
        list(ids),
    )
    return {row[key]: table.from_record(row) for row in rows}


async def delete_by_id(
    conn: Connection, table: Table[T], tenant_id: uuid.UUID, id: Any
) -> T | None:
    """Delete the tenant's row with this id; the row as it was, or None when there was none."""
    row = await conn.fetchrow(
        f"DELETE FROM {table.source} WHERE tenant_id = $1 AND id = $2 RETURNING {table.select}",
        tenant_id,
        id,
    )
    return table.from_record(row) if row else None


async def existing(
    conn: Connection, source: str, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID], *, lock: bool
) -> set[uuid.UUID]:
    """Which of `ids` are the tenant's rows of `source`.

    With `lock`, those are KEY SHARE-locked until the transaction ends, so
    they cannot be deleted before the rows that will reference them are written.
    """
    suffix = " FOR KEY SHARE" if lock else ""
    rows = await conn.fetch(
        f"SELECT id FROM {source} WHERE tenant_id = $1 AND id = ANY($2::uuid[]){suffix}",
        tenant_id,
        sorted(set(ids)),
    )
    return {r["id"] for r in rows}


async def lock_for_delete(
    conn: Connection, table: Table[Any], tenant_id: uuid.UUID, id: Any
) -> bool:
    """Lock the tenant's row (FOR UPDATE) before deleting it; False when there is none.

    FOR UPDATE conflicts with the KEY SHARE lock that the foreign-key check of
    a new referencing row takes: a row being written that points to this one
    commits first (and is then counted by `count_referencing`), or fails on
    its foreign key once the delete commits.
    """
    locked = await conn.fetchval(
        f"SELECT true FROM {table.source} WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant_id,
        id,
    )
    return bool(locked)


async def count_referencing(
    conn: Connection, source: str, column: str, counted: str, tenant_id: uuid.UUID, id: Any
) -> int:
    """How many distinct `counted` values the tenant's rows of `source` have where `column` = id."""
    count = await conn.fetchval(
        f"SELECT count(DISTINCT {counted}) FROM {source} WHERE tenant_id = $1 AND {column} = $2",
        tenant_id,
        id,
    )
    return int(count)
