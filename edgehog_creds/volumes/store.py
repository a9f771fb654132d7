"""SQL for volumes. No UPDATE exists: the table's trigger refuses one."""

from __future__ import annotations

import json
import uuid

import asyncpg

from ..db import Connection, returned
from ..domain.errors import Conflict
from ..store.tables import Table
from .model import Volume


def _from_record(row: asyncpg.Record) -> Volume:
    return Volume(
        id=row["id"],
        label=row["label"],
        driver=row["driver"],
        options=json.loads(row["options"]),  # asyncpg hands jsonb over as text
        inserted_at=row["inserted_at"],
    )


TABLE = Table("volumes", Volume, unique=("id", "label"), from_record=_from_record)


async def insert(
    conn: Connection,
    tenant_id: uuid.UUID,
    volume_id: uuid.UUID,
    *,
    label: str,
    driver: str,
    options: dict[str, str],
) -> Volume:
    """Raises Conflict on `label` when the tenant already has that label."""
    try:
        row = await conn.fetchrow(
            f"""
            INSERT INTO volumes (tenant_id, id, label, driver, options)
            VALUES ($1, $2, $3, $4, $5::jsonb)
            RETURNING {TABLE.select}
            """,
            tenant_id,
            volume_id,
            label,
            driver,
            json.dumps(options),
        )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("label") from exc
    return TABLE.from_record(returned(row))
