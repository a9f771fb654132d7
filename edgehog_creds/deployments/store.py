"""SQL for deployments and for the record of every payload that carried credentials."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..db import Connection, returned
from ..store.listing import Column, Table
from .model import CredentialDelivery, Deployment

DEPLOYMENTS = Table(
    "deployments",
    [
        Column("id", "id", "uuid", unique=True),
        Column("device_id", "device_id", "uuid"),
        Column("release_id", "release_id", "uuid"),
        Column("state", "state", "text"),
        Column("inserted_at", "inserted_at", "timestamptz"),
    ],
    Deployment,
)

# Oldest first, paged per set of credentials: served by
# credential_deliveries_of_credentials (tenant, credentials, delivered_at, id).
DELIVERIES = Table(
    "credential_deliveries",
    [
        Column("id", "id", "uuid", unique=True),
        Column("image_credentials_id", "image_credentials_id", "uuid"),
        Column("device_id", "device_id", "uuid"),
        Column("deployment_id", "deployment_id", "uuid"),
        Column("delivered_at", "delivered_at", "timestamptz"),
    ],
    CredentialDelivery,
    default_sort=("delivered_at", "id"),
)


async def lock_references(
    conn: Connection, tenant_id: uuid.UUID, device_id: uuid.UUID, release_id: uuid.UUID
) -> tuple[bool, bool]:
    """Whether the device and the release exist, each KEY SHARE-locked when it does:
    neither may be deleted before the deployment that names them commits."""
    found = await conn.fetchrow(
        """
        SELECT
            EXISTS (SELECT 1 FROM devices
                    WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE) AS device,
            EXISTS (SELECT 1 FROM releases
                    WHERE tenant_id = $1 AND id = $3 FOR KEY SHARE) AS release
        """,
        tenant_id,
        device_id,
        release_id,
    )
    found = returned(found)
    return bool(found["device"]), bool(found["release"])


async def insert(
    conn: Connection, tenant_id: uuid.UUID, *, device_id: uuid.UUID, release_id: uuid.UUID
) -> Deployment:
    row = await conn.fetchrow(
        f"INSERT INTO deployments (tenant_id, device_id, release_id) VALUES ($1, $2, $3)"
        f" RETURNING {DEPLOYMENTS.select}",
        tenant_id,
        device_id,
        release_id,
    )
    return DEPLOYMENTS.from_record(returned(row))


async def delete(
    conn: Connection, tenant_id: uuid.UUID, deployment_id: uuid.UUID
) -> Deployment | None:
    """Its delivery records stay: they are history, and name the deployment by id."""
    row = await conn.fetchrow(
        f"DELETE FROM deployments WHERE tenant_id = $1 AND id = $2 RETURNING {DEPLOYMENTS.select}",
        tenant_id,
        deployment_id,
    )
    return DEPLOYMENTS.from_record(row) if row else None


async def get_many(
    conn: Connection, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Deployment]:
    rows = await conn.fetch(
        f"SELECT {DEPLOYMENTS.select} FROM deployments"
        " WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        tenant_id,
        list(ids),
    )
    return {r["id"]: DEPLOYMENTS.from_record(r) for r in rows}


async def devices_running(
    conn: Connection, tenant_id: uuid.UUID, release_ids: Sequence[uuid.UUID]
) -> int:
    """To how many devices any of these releases is deployed."""
    count: int = await conn.fetchval(
        "SELECT count(DISTINCT device_id) FROM deployments"
        " WHERE tenant_id = $1 AND release_id = ANY($2::uuid[])",
        tenant_id,
        list(release_ids),
    )
    return count


async def get_deliveries(
    conn: Connection, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CredentialDelivery]:
    rows = await conn.fetch(
        f"SELECT {DELIVERIES.select} FROM credential_deliveries"
        " WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        tenant_id,
        list(ids),
    )
    return {r["id"]: DELIVERIES.from_record(r) for r in rows}
