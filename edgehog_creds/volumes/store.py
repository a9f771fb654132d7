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


async def lock_for_delete(conn: Connection, tenant_id: uuid.UUID, volume_id: uuid.UUID) -> bool:
    """Lock the row (FOR UPDATE); False when there is none.

    FOR UPDATE conflicts with the KEY SHARE lock that the foreign-key check
    of a new container_volumes row takes: a container being created with
    this volume commits first (and is then counted by `users`), or fails
    on its foreign key once the delete commits.
    """
    locked = await conn.fetchval(
        "SELECT true FROM volumes WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant_id,
        volume_id,
    )
    return bool(locked)


async def users(conn: Connection, tenant_id: uuid.UUID, volume_id: uuid.UUID) -> int:
    """How many containers mount the volume."""
    count = await conn.fetchval(
        "SELECT count(DISTINCT container_id) FROM container_volumes"
        " WHERE tenant_id = $1 AND volume_id = $2",
        tenant_id,
        volume_id,
    )
    return int(count)
