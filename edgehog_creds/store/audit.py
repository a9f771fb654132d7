"""The audit trail: who created or deleted what, and when. Never a secret."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from .query import Column, Filter, ListQuery, SortKey, complete_sort

COLUMNS = "id, at, actor, action, entity_type, entity_id, details"
ID = Column("id", "id", "uuid", unique=True)
AT = Column("at", "at", "timestamptz")
ACTION = Column("action", "action", "text")
ENTITY_TYPE = Column("entity_type", "entity_type", "text")
ENTITY_ID = Column("entity_id", "entity_id", "uuid")
SORT_COLUMNS = {c.name: c for c in (AT, ID)}
FILTERABLE = {c.name: c for c in (ID, ACTION, ENTITY_TYPE, ENTITY_ID)}
DEFAULT_SORT = [SortKey(AT), SortKey(ID)]


@dataclass(frozen=True)
class AuditEvent:
    id: uuid.UUID
    at: datetime
    actor: str | None
    action: str
    entity_type: str
    entity_id: uuid.UUID
    details: dict[str, Any]

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> AuditEvent:
        details = row["details"]
        return cls(
            id=row["id"],
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            entity_type=row["entity_type"],
            entity_id=row["entity_id"],
            details=json.loads(details) if isinstance(details, str) else details,
        )


async def record(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    *,
    actor: str | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID,
    details: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        _INSERT, tenant_id, actor, action, entity_type, entity_id, json.dumps(details or {})
    )


async def record_many(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    *,
    actor: str | None,
    action: str,
    entity_type: str,
    events: list[tuple[uuid.UUID, dict[str, Any]]],
) -> None:
    """One event per (entity id, details), in order, in one round trip."""
    await conn.executemany(
        _INSERT,
        [
            (tenant_id, actor, action, entity_type, entity_id, json.dumps(details))
            for entity_id, details in events
        ],
    )


_INSERT = (
    "INSERT INTO audit_events (tenant_id, actor, action, entity_type, entity_id, details) "
    "VALUES ($1, $2, $3, $4, $5, $6::jsonb)"
)


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
        f"SELECT {COLUMNS} FROM audit_events WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        event_id,
    )
    return AuditEvent.from_row(row) if row else None
