"""SQL for image credentials. No UPDATE exists: the table's trigger refuses one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from ..db import Connection, returned
from ..domain.errors import Conflict
from ..store.tables import Table
from ..vault import Sealed
from .model import ImageCredentials

TABLE = Table("image_credentials", ImageCredentials, unique=("id", "label"))


async def insert(
    conn: Connection,
    tenant_id: uuid.UUID,
    credentials_id: uuid.UUID,
    *,
    label: str,
    username: str,
    sealed: Sealed,
) -> ImageCredentials:
    """Raises Conflict on `label` when the tenant already has that label."""
    try:
        row = await conn.fetchrow(
            f"""
            INSERT INTO image_credentials
                (tenant_id, id, label, username, sealed_key_id, sealed_password)
            VALUES ($1, $2, $3, $4, $5, $6)
            RETURNING {TABLE.select}
            """,
            tenant_id,
            credentials_id,
            label,
            username,
            sealed.key_id,
            sealed.ciphertext,
        )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("label") from exc
    return TABLE.from_record(returned(row))


async def key_share(
    conn: Connection, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `ids` exist; those are KEY SHARE-locked until the transaction ends,
    so they cannot be deleted before the rows that reference them are written."""
    rows = await conn.fetch(
        "SELECT id FROM image_credentials WHERE tenant_id = $1 AND id = ANY($2::uuid[])"
        " FOR KEY SHARE",
        tenant_id,
        sorted(set(ids)),
    )
    return {r["id"] for r in rows}


async def existing(
    conn: Connection, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `ids` exist, without locking them."""
    rows = await conn.fetch(
        "SELECT id FROM image_credentials WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        tenant_id,
        sorted(set(ids)),
    )
    return {r["id"] for r in rows}


async def lock_for_delete(
    conn: Connection, tenant_id: uuid.UUID, credentials_id: uuid.UUID
) -> bool:
    """Lock the row (FOR UPDATE); False when there is none.

    A release being created with these credentials, or a payload being read,
    finishes first; nothing new can start to use them until the lock goes.
    """
    locked = await conn.fetchval(
        "SELECT true FROM image_credentials WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant_id,
        credentials_id,
    )
    return bool(locked)
