"""SQL for deployments and for the record of every payload that carried credentials."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..db import Connection, returned
from ..store.tables import Table
from .model import CredentialDelivery, Deployment

DEPLOYMENTS = Table("deployments", Deployment)
# Oldest first, paged per set of credentials: served by
# credential_deliveries_of_credentials (tenant, credentials, delivered_at, id).
DELIVERIES = Table("credential_deliveries", CredentialDelivery, default_sort=("delivered_at", "id"))


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
