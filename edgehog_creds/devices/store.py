"""SQL for devices. A device's token is never stored, only its sha256 (devices/tokens.py)."""

from __future__ import annotations

import uuid

import asyncpg

from ..db import Connection, returned
from ..domain.errors import Conflict
from ..store.tables import Table
from .model import Device

TABLE = Table("devices", Device, unique=("id", "device_id"))


async def insert(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    device_id: str,
    name: str,
    token_hash: bytes,
) -> Device:
    """Raises Conflict on `device_id` when the tenant already has that device."""
    try:
        row = await conn.fetchrow(
            f"INSERT INTO devices (tenant_id, device_id, name, token_hash) VALUES ($1, $2, $3, $4)"
            f" RETURNING {TABLE.select}",
            tenant_id,
            device_id,
            name,
            token_hash,
        )
    except asyncpg.UniqueViolationError as exc:
        # token_hash is unique too, but 256 random bits do not collide: only
        # the device_id constraint is a user's mistake worth naming.
        if exc.constraint_name == "devices_device_id_unique":
            raise Conflict("device_id") from exc
        raise
    return TABLE.from_record(returned(row))


async def id_for_token(
    conn: Connection | asyncpg.Pool, tenant_id: uuid.UUID, token_hash: bytes
) -> uuid.UUID | None:
    """The device (our id) whose token hashes to `token_hash`, within this tenant only."""
    found: uuid.UUID | None = await conn.fetchval(
        "SELECT id FROM devices WHERE tenant_id = $1 AND token_hash = $2", tenant_id, token_hash
    )
    return found
