"""Reading the audit trail (store/audit.py writes it): list queries and lookups."""

from __future__ import annotations

import uuid

import asyncpg

from .audit import COLUMNS, SORT_COLUMNS, AuditEvent
from .query import Column, Filter, ListQuery, SortKey, complete_sort

ID = SORT_COLUMNS["id"]
AT = SORT_COLUMNS["at"]
ACTION = Column("action", "action", "text")
ENTITY_TYPE = Column("entity_type", "entity_type", "text")
ENTITY_ID = Column("entity_id", "entity_id", "uuid")
FILTERABLE = {c.name: c for c in (ID, ACTION, ENTITY_TYPE, ENTITY_ID)}
DEFAULT_SORT = [SortKey(AT), SortKey(ID)]


def list_query(tenant_id: uuid.UUID, filter: Filter | None, sort: list[SortKey]) -> ListQuery:
    # Served by audit_events_by_at, or audit_events_by_entity when filtering by entity.
    return ListQuery(
        columns=COLUMNS,
        source="audit_events",
        scope="tenant_id = $1",
        scope_args=(tenant_id,),
        filter=filter,
        sort=complete_sort(sort or DEFAULT_SORT, ID),
    )


async def get(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> AuditEvent | None:
    row = await conn.fetchrow(
        "SELECT id, at, actor, action, entity_type, entity_id, details "
        "FROM audit_events WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        event_id,
    )
    return AuditEvent.from_row(row) if row else None
