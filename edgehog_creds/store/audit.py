"""The audit trail: who created or deleted what, and when. Never a secret."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from .query import Column

COLUMNS = "id, at, actor, action, entity_type, entity_id, details"
SORT_COLUMNS = {
    "at": Column("at", "at", "timestamptz"),
    "id": Column("id", "id", "uuid", unique=True),
}


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
            **{**dict(row), "details": json.loads(details) if isinstance(details, str) else details}
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
        "INSERT INTO audit_events (tenant_id, actor, action, entity_type, entity_id, details) "
        "VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
        tenant_id,
        actor,
        action,
        entity_type,
        entity_id,
        json.dumps(details or {}),
    )
