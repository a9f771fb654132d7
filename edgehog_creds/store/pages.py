"""Lists as readable SQL: the tenant's rows of one table, filtered, sorted, a keyset page.

A list is: the tenant's rows of one table (tables.py), an optional filter
tree, a sort, and a page (`domain.listing`). The SQL that comes out binds
every value as a parameter and orders by columns that have an index; each
row becomes the table's frozen dataclass, each item carries its cursor
(cursors.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, TypeVar

import asyncpg

from ..db import Connection
from ..domain.errors import Invalid, raise_all
from ..domain.listing import (
    And,
    Cmp,
    Filter,
    ListQuery,
    Not,
    Or,
    Page,
    PageRequest,
    Related,
    Sort,
)
from .cursors import complete_sort, cursor_encoder, decode_cursor, order_sql
from .tables import Column, Many, Relation, Table

T = TypeVar("T")
K = TypeVar("K")


# --- filters ----------------------------------------------------------------

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


class Params:
    """Collects bound values and hands out their $n placeholders."""

    def __init__(self, initial: Sequence[Any] = ()) -> None:
        self.values: list[Any] = list(initial)

    def add(self, value: Any, pg_type: str) -> str:
        self.values.append(value)
        return f"${len(self.values)}::{pg_type}"


def filter_sql(table: Table[Any], f: Filter, params: Params, depth: int = 0) -> str:
    if isinstance(f, And):
        inner = " AND ".join(filter_sql(table, p, params, depth) for p in f.parts)
        return f"({inner})" if f.parts else "TRUE"
    if isinstance(f, Or):
        inner = " OR ".join(filter_sql(table, p, params, depth) for p in f.parts)
        return f"({inner})" if f.parts else "FALSE"
    if isinstance(f, Not):
        return f"(NOT {filter_sql(table, f.part, params, depth)})"
    if isinstance(f, Related):
        return _related_sql(table, f, params, depth)
    return _comparison_sql(table.column(f.field), f, params)


def _related_sql(table: Table[Any], f: Related, params: Params, depth: int) -> str:
    """EXISTS (a related row, matching): one index look-up per row filtered.

    The related table gets an alias of its own per level, so a filter on a
    release's application inside a filter on a deployment's release reads
    each table by its own name; its columns, unqualified, are the inner ones.
    A filter on a to-many relation that a row of NULLs would match (`name:
    {isNil: true}`) also matches rows with no related row at all, as the
    outer join of Edgehog's filters does.
    """
    relation = table.relations[f.relation]
    outer = table.alias if depth == 0 else f"related{depth}"
    inner = f"related{depth + 1}"
    target = relation.target
    if isinstance(relation, Relation):
        tie = f"{inner}.id = {outer}.{relation.column}"
    else:
        tie = relation.join.format(inner=inner, outer=outer)
    condition = filter_sql(target, f.part, params, depth + 1)
    related = (
        f"SELECT 1 FROM {target.body} AS {inner}"
        f" WHERE {inner}.tenant_id = {outer}.tenant_id AND {tie}"
    )
    found = f"EXISTS ({related} AND {condition})"
    if isinstance(relation, Many) and _matches_nulls(f.part):
        return f"({found} OR NOT EXISTS ({related}))"
    return found


def _matches_nulls(f: Filter) -> bool:
    """Whether a related row whose every column is NULL would match `f` (SQL's rules)."""
    if isinstance(f, And):
        return all(_matches_nulls(p) for p in f.parts)
    if isinstance(f, Or):
        return any(_matches_nulls(p) for p in f.parts)
    if isinstance(f, Not):
        return not _matches_nulls(f.part)
    if isinstance(f, Related):
        return False
    if f.op == "is_nil":
        return bool(f.value)
    return f.op == "is_distinct_from" and f.value is not None


def _comparison_sql(col: Column, f: Cmp, params: Params) -> str:
    op, value = f.op, f.value
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


@dataclass(frozen=True, slots=True)
class _Plan:
    """A checked page request: its complete sort and decoded cursors."""

    sort: list[Sort]
    limit: int
    backward: bool
    after: tuple[Any, ...] | None
    before: tuple[Any, ...] | None

    @property
    def start(self) -> tuple[Any, ...] | None:
        """The cursor the page starts from, in its direction of travel."""
        return self.before if self.backward else self.after


def _plan(table: Table[Any], sort: list[Sort], request: PageRequest) -> _Plan:
    """Check the request and decode its cursors for `sort` (complete: see complete_sort)."""
    request.check()
    positions: dict[str, tuple[Any, ...]] = {}
    errors = []
    for name, cursor in (("after", request.after), ("before", request.before)):
        if cursor is not None:
            try:
                positions[name] = decode_cursor(table, cursor, sort, name)
            except Invalid as exc:
                errors.append(exc)
    raise_all(errors)
    return _Plan(
        sort, request.limit, request.backward, positions.get("after"), positions.get("before")
    )


def _after_sql(
    table: Table[Any], sort: Sequence[Sort], values: Sequence[Any], params: Params
) -> str:
    """Rows strictly after `values` in `sort` order."""
    cols = [table.column(k.field) for k in sort]
    placeholders = [params.add(v, c.pg_type) for c, v in zip(cols, values, strict=True)]
    if len({k.descending for k in sort}) == 1:
        # One direction: a row comparison, which a b-tree index answers directly.
        op = "<" if sort[0].descending else ">"
        return f"(({', '.join(c.sql for c in cols)}) {op} ({', '.join(placeholders)}))"
    ors = []
    for i, key in enumerate(sort):
        eqs = [f"{c.sql} = {p}" for c, p in zip(cols[:i], placeholders[:i], strict=True)]
        op = "<" if key.descending else ">"
        ors.append("(" + " AND ".join([*eqs, f"{cols[i].sql} {op} {placeholders[i]}"]) + ")")
    return "(" + " OR ".join(ors) + ")"


def _at_or_before_sql(table: Table[Any], plan: _Plan, params: Params) -> str:
    """Rows at the start cursor or on its far side: is there a page behind this one?"""
    assert plan.start is not None
    sort = plan.sort if plan.backward else [k.flipped() for k in plan.sort]
    cols = ", ".join(table.column(k.field).sql for k in sort)
    strictly = _after_sql(table, sort, plan.start, params)
    at = ", ".join(
        params.add(v, table.column(k.field).pg_type) for k, v in zip(sort, plan.start, strict=True)
    )
    return f"({strictly} OR ({cols}) = ({at}))"


def _where(table: Table[Any], tenant_id: uuid.UUID, query: ListQuery, params: Params) -> list[str]:
    params.values.append(tenant_id)
    where = [f"tenant_id = ${len(params.values)}"]
    if query.filter is not None:
        where.append(filter_sql(table, query.filter, params))
    return where


def _window(table: Table[Any], plan: _Plan, where: list[str], params: Params) -> list[str]:
    """`where`, narrowed to the rows between the cursors."""
    out = list(where)
    if plan.after is not None:
        out.append(_after_sql(table, plan.sort, plan.after, params))
    if plan.before is not None:
        out.append(_after_sql(table, [k.flipped() for k in plan.sort], plan.before, params))
    return out


def _travel_order(table: Table[Any], plan: _Plan) -> str:
    sort = [k.flipped() for k in plan.sort] if plan.backward else plan.sort
    return ", ".join(order_sql(table, k) for k in sort)


def _page(items: list[T], more: bool, beyond: bool, plan: _Plan, total: int | None) -> Page[T]:
    """A page from the items in travel order, plus one if `more` lie beyond it."""
    items = items[: plan.limit]
    if plan.backward:
        items.reverse()
    encode = cursor_encoder(plan.sort)
    return Page(
        items=items,
        cursors=[encode(item) for item in items],
        has_next_page=beyond if plan.backward else more,
        has_previous_page=more if plan.backward else beyond,
        total=total,
    )


# --- one page -------------------------------------------------------------------

TOTAL = "__total"  # the extra column a page adds when asked for the count


async def page(
    conn: Connection,
    table: Table[T],
    tenant_id: uuid.UUID,
    query: ListQuery,
    request: PageRequest,
) -> Page[T]:
    """One page of the tenant's rows, keyset-paginated in either direction.

    One query fetches the page and one row more (is there a next page?) and,
    when asked, the total as an uncorrelated subquery PostgreSQL runs once.
    A second query runs only when a cursor is given: is there anything on
    its far side (the other direction's has*Page)?
    """
    plan = _plan(table, complete_sort(table, query.sort), request)
    params = Params()
    matching = _where(table, tenant_id, query, params)
    where = _window(table, plan, matching, params)
    limit = params.add(plan.limit + 1, "int")
    columns = table.select
    if request.count:
        columns += (
            f", (SELECT count(*) FROM {table.source} WHERE {' AND '.join(matching)}) AS {TOTAL}"
        )
    rows = await conn.fetch(
        f"SELECT {columns} FROM {table.source} WHERE {' AND '.join(where)}"
        f" ORDER BY {_travel_order(table, plan)} LIMIT {limit}",
        *params.values,
    )
    total = rows[0][TOTAL] if request.count and rows else None
    beyond = False
    if plan.start is not None:
        params = Params()
        where = _where(table, tenant_id, query, params)
        where.append(_at_or_before_sql(table, plan, params))
        beyond = await conn.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM {table.source} WHERE {' AND '.join(where)})",
            *params.values,
        )
    if request.count and total is None:  # an empty page carries no total
        params = Params()
        where = _where(table, tenant_id, query, params)
        total = await conn.fetchval(
            f"SELECT count(*) FROM {table.source} WHERE {' AND '.join(where)}", *params.values
        )
    items = [table.from_record(r) for r in rows]
    return _page(items, len(rows) > plan.limit, beyond, plan, total)


# --- one page per parent, for connections nested under a list -------------------
#
# `Application.releases` inside `listApplications` asks for the same page of
# releases under every application listed. `pages` runs it for all parents in
# one statement each, so a list of N parents costs the same few queries as one.


async def pages(
    conn: Connection,
    table: Table[T],
    tenant_id: uuid.UUID,
    query: ListQuery,
    request: PageRequest,
    partition: str,
    keys: Sequence[K],
) -> list[Page[T]]:
    """`page` for every key of the `partition` column at once, in key order.

    A LATERAL subquery runs the keyset query once per key, so each parent's
    page is read from its own index range and stops after `limit + 1` rows,
    however many rows the parent has. One query more when a cursor is given,
    and one GROUP BY for every total when the request asks for them.
    """
    plan = _plan(table, complete_sort(table, query.sort), request)
    column = table.column(partition)
    keys = list(keys)
    params = Params()
    where = _window(table, plan, _where(table, tenant_id, query, params), params)
    keys_p = params.add(keys, column.pg_type + "[]")
    limit_p = params.add(plan.limit + 1, "int")
    order = _travel_order(table, plan)
    rows = await conn.fetch(
        f"SELECT page.* FROM unnest({keys_p}) AS part(_key) CROSS JOIN LATERAL ("
        f"SELECT {table.select}, part._key AS _partition,"
        f" row_number() OVER (ORDER BY {order}) AS _n"
        f" FROM {table.source} WHERE {' AND '.join(where)} AND {column.sql} = part._key"
        f" ORDER BY {order} LIMIT {limit_p}) AS page",
        *params.values,
    )
    grouped: dict[Any, list[asyncpg.Record]] = {key: [] for key in keys}
    for row in rows:
        grouped[row["_partition"]].append(row)

    beyond: set[Any] = set()
    if plan.start is not None:
        params = Params()
        where = _where(table, tenant_id, query, params)
        where.append(_at_or_before_sql(table, plan, params))
        keys_p = params.add(keys, column.pg_type + "[]")
        found = await conn.fetch(
            f"SELECT part._key FROM unnest({keys_p}) AS part(_key) WHERE EXISTS ("
            f"SELECT 1 FROM {table.source} WHERE {' AND '.join(where)}"
            f" AND {column.sql} = part._key)",
            *params.values,
        )
        beyond = {r["_key"] for r in found}

    totals: dict[Any, int] = {}
    if request.count:
        params = Params()
        where = _where(table, tenant_id, query, params)
        keys_p = params.add(keys, column.pg_type + "[]")
        found = await conn.fetch(
            f"SELECT {column.sql} AS _partition, count(*) AS _count FROM {table.source}"
            f" WHERE {' AND '.join(where)} AND {column.sql} = ANY({keys_p}) GROUP BY 1",
            *params.values,
        )
        totals = {r["_partition"]: r["_count"] for r in found}

    out = []
    for key in keys:
        part = sorted(grouped[key], key=lambda r: r["_n"])
        items = [table.from_record(r) for r in part]
        total = totals.get(key, 0) if request.count else None
        out.append(_page(items, len(part) > plan.limit, key in beyond, plan, total))
    return out


# --- a page of a list already in memory ---------------------------------------


def page_of_list(
    table: Table[Any], items: Sequence[T], sort: Sequence[Sort], request: PageRequest
) -> Page[T]:
    """A page of `items`, already in ascending `sort` order (a release's few containers).

    Same arguments, limits and cursors as `page` over the same sort, so a
    client cannot tell the difference; the total is every item.
    """
    assert not any(k.descending for k in sort), "page_of_list pages ascending sorts only"
    plan = _plan(table, list(sort), request)
    values = attrgetter(*(k.field for k in plan.sort))
    keyed = [(_as_tuple(values(item), len(plan.sort)), item) for item in items]
    after, before = plan.after, plan.before
    window = [
        (key, item)
        for key, item in keyed
        if (after is None or key > after) and (before is None or key < before)
    ]
    if plan.backward:
        window.reverse()
    start = plan.start
    if start is None:
        beyond = False
    elif plan.backward:
        beyond = any(key >= start for key, _ in keyed)
    else:
        beyond = any(key <= start for key, _ in keyed)
    chosen = [item for _, item in window[: plan.limit + 1]]
    return _page(chosen, len(window) > plan.limit, beyond, plan, len(items))


def _as_tuple(value: Any, width: int) -> tuple[Any, ...]:
    return (value,) if width == 1 else tuple(value)
