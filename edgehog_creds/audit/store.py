"""SQL for the audit trail. Rows are written in the transaction of the change they record."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from ..db import Connection
from ..store.tables import Table
from .model import AuditEvent


def _from_record(row: asyncpg.Record) -> AuditEvent:
    details = row["details"]
    return AuditEvent(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        entity_type=row["entity_type"],
        entity_id=row["entity_id"],
        details=json.loads(details) if isinstance(details, str) else details,
    )


# Served by audit_events_by_at, or audit_events_by_entity when filtering by entity.
TABLE = Table("audit_events", AuditEvent, default_sort=("at", "id"), from_record=_from_record)

_INSERT = (
    "INSERT INTO audit_events (tenant_id, actor, action, entity_type, entity_id, details) "
    "VALUES ($1, $2, $3, $4, $5, $6::jsonb)"
)


async def record(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    actor: str | None,
    action: str,
    entity_type: str,
    events: Sequence[tuple[uuid.UUID, dict[str, Any]]],
) -> None:
    """One event per (entity id, details), in order, in one round trip."""
    rows = [
        (tenant_id, actor, action, entity_type, entity_id, json.dumps(details))
        for entity_id, details in events
    ]
    if len(rows) == 1:
        await conn.execute(_INSERT, *rows[0])  # one statement: cheaper than a batch of one
    else:
        await conn.executemany(_INSERT, rows)
