"""Image credentials: label, username and a sealed password. No UPDATE exists."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ..errors import Conflict
from ..vault import Sealed
from . import audit
from .query import Column, Filter, ListQuery, SortKey, complete_sort

ENTITY = "ImageCredentials"
COLUMNS = "id, label, username, inserted_at"

ID = Column("id", "id", "uuid", unique=True)
LABEL = Column("label", "label", "text", unique=True)
USERNAME = Column("username", "username", "text")
INSERTED_AT = Column("inserted_at", "inserted_at", "timestamptz")
SORTABLE = {c.name: c for c in (ID, LABEL, USERNAME, INSERTED_AT)}
FILTERABLE = {c.name: c for c in (ID, LABEL, USERNAME)}
DEFAULT_SORT = [SortKey(INSERTED_AT), SortKey(ID)]


@dataclass(frozen=True)
class ImageCredentials:
    """What anyone may see of credentials: never the password, sealed or not."""

    id: uuid.UUID
    label: str
    username: str
    inserted_at: datetime


def _from_row(row: asyncpg.Record) -> ImageCredentials:
    return ImageCredentials(row["id"], row["label"], row["username"], row["inserted_at"])


async def create(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    credentials_id: uuid.UUID,
    *,
    label: str,
    username: str,
    sealed: Sealed,
    actor: str | None,
) -> ImageCredentials:
    try:
        async with conn.transaction():
            row = await conn.fetchrow(
                f"""
                INSERT INTO image_credentials
                    (tenant_id, id, label, username, sealed_key_id, sealed_password)
                VALUES ($1, $2, $3, $4, $5, $6)
                RETURNING {COLUMNS}
                """,
                tenant_id,
                credentials_id,
                label,
                username,
                sealed.key_id,
                sealed.ciphertext,
            )
            await audit.record(
                conn,
                tenant_id,
                actor=actor,
                action="create",
                entity_type=ENTITY,
                entity_id=credentials_id,
                details={"label": label},
            )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("label") from exc
    return _from_row(row)


async def get_many(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, ImageCredentials]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM image_credentials WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        tenant_id,
        ids,
    )
    return {r["id"]: _from_row(r) for r in rows}


def list_query(tenant_id: uuid.UUID, filter: Filter | None, sort: list[SortKey]) -> ListQuery:
    return ListQuery(
        columns=COLUMNS,
        source="image_credentials",
        scope="tenant_id = $1",
        scope_args=(tenant_id,),
        filter=filter,
        sort=complete_sort(sort or DEFAULT_SORT, ID),
    )


@dataclass(frozen=True)
class Deleted:
    credentials: ImageCredentials
    detached_containers: int  # containers that used them and now have none


async def delete(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, credentials_id: uuid.UUID, *, actor: str | None
) -> Deleted | None:
    """Delete credentials; the sealed password leaves the database with the row.

    Containers that used them are detached first and marked, so they can say
    their credentials were deleted, and a payload that needs them is refused.
    """
    async with conn.transaction():
        # Lock the row first: a release being created with these credentials,
        # or a payload being read, finishes before we detach and delete, and
        # nothing new can start to use them until we are done.
        locked = await conn.fetchval(
            "SELECT 1 FROM image_credentials WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
            tenant_id,
            credentials_id,
        )
        if locked is None:
            return None
        detached = await conn.fetchval(
            """
            WITH detached AS (
                UPDATE containers
                SET image_credentials_id = NULL, credentials_deleted_at = clock_timestamp()
                WHERE tenant_id = $1 AND image_credentials_id = $2
                RETURNING 1
            )
            SELECT count(*) FROM detached
            """,
            tenant_id,
            credentials_id,
        )
        row = await conn.fetchrow(
            f"DELETE FROM image_credentials WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}",
            tenant_id,
            credentials_id,
        )
        await audit.record(
            conn,
            tenant_id,
            actor=actor,
            action="delete",
            entity_type=ENTITY,
            entity_id=credentials_id,
            details={"label": row["label"], "detached_containers": detached},
        )
    return Deleted(_from_row(row), detached)
