"""Devices, deployments of releases to them, and the record of credential deliveries.

A device's token is never stored: only its sha256 (auth.hash_device_token), so
a database dump cannot be replayed as a device.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from .. import auth
from ..errors import Conflict, NotFound, raise_all
from . import audit
from .query import Column, Filter, ListQuery, SortKey, complete_sort
from .tenants import Tenant

DEVICE_ENTITY = "Device"
DEPLOYMENT_ENTITY = "Deployment"

# --- devices ------------------------------------------------------------------

DEVICE_COLUMNS = "id, device_id, name, inserted_at"

DEVICE_ID = Column("id", "id", "uuid", unique=True)
DEVICE_DEVICE_ID = Column("device_id", "device_id", "text", unique=True)
DEVICE_NAME = Column("name", "name", "text")
DEVICE_INSERTED_AT = Column("inserted_at", "inserted_at", "timestamptz")
DEVICE_SORTABLE = {
    c.name: c for c in (DEVICE_ID, DEVICE_DEVICE_ID, DEVICE_NAME, DEVICE_INSERTED_AT)
}
DEVICE_FILTERABLE = {c.name: c for c in (DEVICE_ID, DEVICE_DEVICE_ID, DEVICE_NAME)}
DEVICE_DEFAULT_SORT = [SortKey(DEVICE_INSERTED_AT), SortKey(DEVICE_ID)]


@dataclass(frozen=True)
class Device:
    id: uuid.UUID
    device_id: str  # the device's own identifier, unique per tenant
    name: str
    inserted_at: datetime


def device_from_row(row: asyncpg.Record) -> Device:
    return Device(row["id"], row["device_id"], row["name"], row["inserted_at"])


async def create_device(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    *,
    device_id: str,
    name: str,
    token_hash: bytes,
    actor: str | None,
) -> Device:
    try:
        async with conn.transaction():
            row = await conn.fetchrow(
                f"""
                INSERT INTO devices (tenant_id, device_id, name, token_hash)
                VALUES ($1, $2, $3, $4)
                RETURNING {DEVICE_COLUMNS}
                """,
                tenant_id,
                device_id,
                name,
                token_hash,
            )
            await audit.record(
                conn,
                tenant_id,
                actor=actor,
                action="create",
                entity_type=DEVICE_ENTITY,
                entity_id=row["id"],
                details={"device_id": device_id, "name": name},
            )
    except asyncpg.UniqueViolationError as exc:
        # token_hash is unique too, but 256 random bits do not collide: only
        # the device_id constraint is a user's mistake worth naming.
        if exc.constraint_name == "devices_device_id_unique":
            raise Conflict("deviceId") from exc
        raise
    return device_from_row(row)


async def delete_device(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, device_id: uuid.UUID, *, actor: str | None
) -> Device | None:
    """Forget a device and its token; its deployments go with it (cascade).

    How a lost or leaked token is replaced: delete the device, create it
    again (same deviceId) and deploy again. Delivery records stay.
    """
    async with conn.transaction():
        row = await conn.fetchrow(
            f"DELETE FROM devices WHERE tenant_id = $1 AND id = $2 RETURNING {DEVICE_COLUMNS}",
            tenant_id,
            device_id,
        )
        if row is None:
            return None
        await audit.record(
            conn,
            tenant_id,
            actor=actor,
            action="delete",
            entity_type=DEVICE_ENTITY,
            entity_id=device_id,
            details={"device_id": row["device_id"], "name": row["name"]},
        )
    return device_from_row(row)


async def get_devices(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Device]:
    rows = await conn.fetch(
        f"SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        tenant_id,
        ids,
    )
    return {r["id"]: device_from_row(r) for r in rows}


async def get_by_token(
    conn: asyncpg.Connection | asyncpg.Pool, tenant: Tenant, token: str
) -> auth.Device | None:
    """The device principal a token stands for, within this tenant only."""
    device_id = await conn.fetchval(
        "SELECT id FROM devices WHERE tenant_id = $1 AND token_hash = $2",
        tenant.id,
        auth.hash_device_token(token),
    )
    return auth.Device(tenant, device_id) if device_id is not None else None


def devices_query(tenant_id: uuid.UUID, filter: Filter | None, sort: list[SortKey]) -> ListQuery:
    return ListQuery(
        columns=DEVICE_COLUMNS,
        source="devices",
        scope="tenant_id = $1",
        scope_args=(tenant_id,),
        filter=filter,
        sort=complete_sort(sort or DEVICE_DEFAULT_SORT, DEVICE_ID),
    )


# --- deployments ----------------------------------------------------------------

DEPLOYMENT_COLUMNS = "id, device_id, release_id, state, inserted_at"

DEPLOYMENT_ID = Column("id", "id", "uuid", unique=True)
DEPLOYMENT_DEVICE = Column("device_id", "device_id", "uuid")
DEPLOYMENT_RELEASE = Column("release_id", "release_id", "uuid")
DEPLOYMENT_STATE = Column("state", "state", "text")
DEPLOYMENT_INSERTED_AT = Column("inserted_at", "inserted_at", "timestamptz")
DEPLOYMENT_SORTABLE = {c.name: c for c in (DEPLOYMENT_ID, DEPLOYMENT_INSERTED_AT)}
DEPLOYMENT_DEFAULT_SORT = [SortKey(DEPLOYMENT_INSERTED_AT), SortKey(DEPLOYMENT_ID)]


@dataclass(frozen=True)
class Deployment:
    id: uuid.UUID
    device_id: uuid.UUID  # our primary key of the device
    release_id: uuid.UUID
    state: str
    inserted_at: datetime


def deployment_from_row(row: asyncpg.Record) -> Deployment:
    return Deployment(
        row["id"], row["device_id"], row["release_id"], row["state"], row["inserted_at"]
    )


async def create_deployment(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    *,
    device_id: uuid.UUID,
    release_id: uuid.UUID,
    actor: str | None,
) -> Deployment:
    """Deploy a release to a device; NotFound names whichever of the two is absent."""
    async with conn.transaction():
        # FOR KEY SHARE: neither may be deleted before the insert below commits,
        # so "both exist" stays true and the foreign keys cannot fail.
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
        missing = [NotFound("releaseId")] if not found["release"] else []
        if not found["device"]:
            missing.append(NotFound("deviceId"))
        raise_all(missing)
        row = await conn.fetchrow(
            f"""
            INSERT INTO deployments (tenant_id, device_id, release_id)
            VALUES ($1, $2, $3)
            RETURNING {DEPLOYMENT_COLUMNS}
            """,
            tenant_id,
            device_id,
            release_id,
        )
        await audit.record(
            conn,
            tenant_id,
            actor=actor,
            action="create",
            entity_type=DEPLOYMENT_ENTITY,
            entity_id=row["id"],
            details={"device_id": str(device_id), "release_id": str(release_id)},
        )
    return deployment_from_row(row)


async def delete_deployment(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, deployment_id: uuid.UUID, *, actor: str | None
) -> Deployment | None:
    """Withdraw a release from a device; None when there is no such deployment.

    Its delivery records stay: they are history, and name the deployment by id.
    """
    async with conn.transaction():
        row = await conn.fetchrow(
            "DELETE FROM deployments WHERE tenant_id = $1 AND id = $2 "
            f"RETURNING {DEPLOYMENT_COLUMNS}",
            tenant_id,
            deployment_id,
        )
        if row is None:
            return None
        await audit.record(
            conn,
            tenant_id,
            actor=actor,
            action="delete",
            entity_type=DEPLOYMENT_ENTITY,
            entity_id=deployment_id,
            details={"device_id": str(row["device_id"]), "release_id": str(row["release_id"])},
        )
    return deployment_from_row(row)


async def get_deployments(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Deployment]:
    rows = await conn.fetch(
        f"SELECT {DEPLOYMENT_COLUMNS} FROM deployments "
        "WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        tenant_id,
        ids,
    )
    return {r["id"]: deployment_from_row(r) for r in rows}


def deployments_query(
    tenant_id: uuid.UUID, filter: Filter | None, sort: list[SortKey]
) -> ListQuery:
    """Deployments of the tenant; page it per device on DEPLOYMENT_DEVICE."""
    return ListQuery(
        columns=DEPLOYMENT_COLUMNS,
        source="deployments",
        scope="tenant_id = $1",
        scope_args=(tenant_id,),
        filter=filter,
        sort=complete_sort(sort or DEPLOYMENT_DEFAULT_SORT, DEPLOYMENT_ID),
    )


# --- credential deliveries ------------------------------------------------------

DELIVERY_COLUMNS = "id, image_credentials_id, device_id, deployment_id, delivered_at"
DELIVERY_ID = Column("id", "id", "uuid", unique=True)
DELIVERY_AT = Column("delivered_at", "delivered_at", "timestamptz")
# Served by credential_deliveries_of_credentials (tenant, credentials, delivered_at, id).
DELIVERY_CREDENTIALS = Column("image_credentials_id", "image_credentials_id", "uuid")


@dataclass(frozen=True)
class CredentialDelivery:
    """Which credentials went to which device for which deployment, and when."""

    id: uuid.UUID
    image_credentials_id: uuid.UUID
    device_id: uuid.UUID
    deployment_id: uuid.UUID
    delivered_at: datetime


def delivery_from_row(row: asyncpg.Record) -> CredentialDelivery:
    return CredentialDelivery(
        row["id"],
        row["image_credentials_id"],
        row["device_id"],
        row["deployment_id"],
        row["delivered_at"],
    )


async def get_delivery(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, delivery_id: uuid.UUID
) -> CredentialDelivery | None:
    row = await conn.fetchrow(
        f"SELECT {DELIVERY_COLUMNS} FROM credential_deliveries WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        delivery_id,
    )
    return delivery_from_row(row) if row else None


def deliveries_query(tenant_id: uuid.UUID) -> ListQuery:
    """Deliveries, oldest first; page it per set of credentials on DELIVERY_CREDENTIALS."""
    return ListQuery(
        columns=DELIVERY_COLUMNS,
        source="credential_deliveries",
        scope="tenant_id = $1",
        scope_args=(tenant_id,),
        filter=None,
        sort=[SortKey(DELIVERY_AT), SortKey(DELIVERY_ID)],
    )
