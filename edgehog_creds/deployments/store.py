"""SQL for deployments, what their devices report, the messages waiting for devices,
and the record of every payload that carried credentials."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from ..applications import store as applications_store
from ..db import Connection, returned
from ..devices import store as devices_store
from ..store import tables
from ..store.tables import Relation, Table
from .model import (
    ContainerDeployment,
    CredentialDelivery,
    Deployment,
    DeploymentEvent,
    DeviceMessage,
    Resource,
    ResourceDeployment,
)

DEPLOYMENTS = Table(
    "deployments",
    Deployment,
    relations={
        "release": Relation("release_id", applications_store.RELEASES),
        "device": Relation("device_id", devices_store.TABLE),
    },
)
# Oldest first, paged per set of credentials: served by
# credential_deliveries_of_credentials (tenant, credentials, delivered_at, id).
DELIVERIES = Table("credential_deliveries", CredentialDelivery, default_sort=("delivered_at", "id"))


def _event(row: asyncpg.Record) -> DeploymentEvent:
    return DeploymentEvent(
        id=row["id"],
        deployment_id=row["deployment_id"],
        type=row["type"],
        message=row["message"],
        add_info=tuple(row["add_info"]),
        reported_at=row["reported_at"],
        inserted_at=row["inserted_at"],
    )


# Paged in memory: a deployment's few containers, and what each needs.
CONTAINER_DEPLOYMENTS = Table("deployments", ContainerDeployment)
RESOURCE_DEPLOYMENTS = Table("device_resources", ResourceDeployment)

EVENTS = Table(
    "deployment_events",
    DeploymentEvent,
    from_record=_event,
    select="id, deployment_id, type, message, add_info, reported_at, inserted_at",
)


# --- deployments ---------------------------------------------------------------------


async def lock_references(
    conn: Connection, tenant_id: uuid.UUID, device_id: uuid.UUID, release_id: uuid.UUID
) -> tuple[bool, bool]:
    """Whether the device and the release exist. The device row is locked FOR
    NO KEY UPDATE, so deployments to one device are made one at a time (one
    per release); the release is KEY SHARE-locked: neither may be deleted
    before the deployment that names them commits."""
    found = await conn.fetchrow(
        """
        SELECT
            EXISTS (SELECT 1 FROM devices
                    WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE) AS device,
            EXISTS (SELECT 1 FROM releases
                    WHERE tenant_id = $1 AND id = $3 FOR KEY SHARE) AS release
        """,
        tenant_id,
        device_id,
        release_id,
    )
    found = returned(found)
    return bool(found["device"]), bool(found["release"])


async def incompatible(
    conn: Connection, tenant_id: uuid.UUID, device_id: uuid.UUID, release_id: uuid.UUID
) -> bool:
    """Whether the release requires system models and the device is of none of them."""
    refused: bool = await conn.fetchval(
        """
        SELECT EXISTS (SELECT FROM release_system_models
                       WHERE tenant_id = $1 AND release_id = $3)
           AND NOT EXISTS (SELECT FROM release_system_models r
                           JOIN devices d ON d.tenant_id = r.tenant_id
                            AND d.system_model_id = r.system_model_id
                           WHERE r.tenant_id = $1 AND r.release_id = $3 AND d.id = $2)
        """,
        tenant_id,
        device_id,
        release_id,
    )
    return refused


async def of_device_and_release(
    conn: Connection, tenant_id: uuid.UUID, device_id: uuid.UUID, release_id: uuid.UUID
) -> Deployment | None:
    row = await conn.fetchrow(
        f"SELECT {DEPLOYMENTS.select} FROM deployments"
        " WHERE tenant_id = $1 AND device_id = $2 AND release_id = $3",
        tenant_id,
        device_id,
        release_id,
    )
    return DEPLOYMENTS.from_record(row) if row else None


async def insert(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    device_id: uuid.UUID,
    release_id: uuid.UUID,
    upgrade_from: uuid.UUID | None = None,
) -> Deployment:
    row = await conn.fetchrow(
        "INSERT INTO deployments (tenant_id, device_id, release_id, upgrade_from)"
        f" VALUES ($1, $2, $3, $4) RETURNING {DEPLOYMENTS.select}",
        tenant_id,
        device_id,
        release_id,
        upgrade_from,
    )
    return DEPLOYMENTS.from_record(returned(row))


async def lock(
    conn: Connection, tenant_id: uuid.UUID, deployment_id: uuid.UUID
) -> Deployment | None:
    """The deployment, locked FOR UPDATE until the transaction ends; None if absent."""
    row = await conn.fetchrow(
        f"SELECT {DEPLOYMENTS.select} FROM deployments WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant_id,
        deployment_id,
    )
    return DEPLOYMENTS.from_record(row) if row else None


async def update(
    conn: Connection, tenant_id: uuid.UUID, deployment_id: uuid.UUID, **values: Any
) -> Deployment:
    """Set some of state, context, state_reported_at, upgrade_from, timed_out."""
    allowed = {"state", "context", "state_reported_at", "upgrade_from", "timed_out"}
    assert values and set(values) <= allowed, values
    names = sorted(values)
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=3))
    row = await conn.fetchrow(
        f"UPDATE deployments SET {sets} WHERE tenant_id = $1 AND id = $2"
        f" RETURNING {DEPLOYMENTS.select}",
        tenant_id,
        deployment_id,
        *(values[name] for name in names),
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


# --- what devices hold ------------------------------------------------------------------


async def resources_of(
    conn: Connection, tenant_id: uuid.UUID, deployment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Resource]]:
    """Every resource each deployment's containers need, with what its device
    reported of it, in release order: one query for all the deployments."""
    rows = await conn.fetch(
        """
        WITH d AS (
            SELECT id, device_id, release_id FROM deployments
            WHERE tenant_id = $1 AND id = ANY($2::uuid[])
        ), c AS (
            SELECT d.id AS deployment_id, d.device_id, rc.position, ct.id AS container_id,
                   ct.image_id
            FROM d
            JOIN release_containers rc ON rc.tenant_id = $1 AND rc.release_id = d.release_id
            JOIN containers ct ON ct.tenant_id = $1 AND ct.id = rc.container_id
        ), parts AS (
            SELECT deployment_id, device_id, position, container_id,
                   0 AS rank, 'container' AS kind, container_id AS resource_id FROM c
            UNION ALL
            SELECT deployment_id, device_id, position, container_id, 1, 'image', image_id FROM c
            UNION ALL
            SELECT c.deployment_id, c.device_id, c.position, c.container_id, 2, 'volume',
                   v.volume_id
            FROM c JOIN container_volumes v
                ON v.tenant_id = $1 AND v.container_id = c.container_id
            UNION ALL
            SELECT c.deployment_id, c.device_id, c.position, c.container_id, 3, 'network',
                   n.network_id
            FROM c JOIN container_networks n
                ON n.tenant_id = $1 AND n.container_id = c.container_id
            UNION ALL
            SELECT c.deployment_id, c.device_id, c.position, c.container_id, 4, 'device_mapping',
                   m.id
            FROM c JOIN device_mappings m ON m.tenant_id = $1 AND m.container_id = c.container_id
            UNION ALL
            SELECT c.deployment_id, c.device_id, c.position, c.container_id, 5, 'device_request',
                   r.id
            FROM c JOIN device_requests r ON r.tenant_id = $1 AND r.container_id = c.container_id
        )
        SELECT p.deployment_id, p.container_id, p.kind, p.resource_id, s.state
        FROM parts p
        LEFT JOIN device_resources s
            ON s.tenant_id = $1 AND s.device_id = p.device_id
           AND s.kind = p.kind AND s.resource_id = p.resource_id
        ORDER BY p.deployment_id, p.position, p.rank, p.resource_id
        """,
        tenant_id,
        list(deployment_ids),
    )
    out: dict[uuid.UUID, list[Resource]] = {d: [] for d in deployment_ids}
    for r in rows:
        out[r["deployment_id"]].append(
            Resource(r["container_id"], r["kind"], r["resource_id"], r["state"])
        )
    return out


async def record_resource_states(
    conn: Connection,
    tenant_id: uuid.UUID,
    device_id: uuid.UUID,
    reports: Sequence[tuple[str, uuid.UUID, str | None, datetime]],
) -> None:
    """(kind, resource id, state or None for removed, when) as the device said it.

    A report older than the one kept changes nothing: reports may arrive out
    of order, and the device's clock orders them.
    """
    await conn.executemany(
        """
        INSERT INTO device_resources (tenant_id, device_id, kind, resource_id, state, reported_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (tenant_id, device_id, kind, resource_id) DO UPDATE
        SET state = EXCLUDED.state, reported_at = EXCLUDED.reported_at
        WHERE device_resources.reported_at <= EXCLUDED.reported_at
        """,
        [(tenant_id, device_id, kind, rid, state, at) for kind, rid, state, at in reports],
    )


_RESOURCE_TABLES = {
    "image": "images",
    "volume": "volumes",
    "network": "networks",
    "device_mapping": "device_mappings",
    "device_request": "device_requests",
    "container": "containers",
}


async def known_resources(
    conn: Connection, tenant_id: uuid.UUID, kind: str, ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `ids` are the tenant's resources of `kind` (a device may report only those)."""
    return await tables.existing(conn, _RESOURCE_TABLES[kind], tenant_id, ids, lock=False)


async def deployments_of_device(
    conn: Connection, tenant_id: uuid.UUID, device_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Deployment]:
    """Which of `ids` are deployments to this device, locked FOR UPDATE in id order."""
    rows = await conn.fetch(
        f"SELECT {DEPLOYMENTS.select} FROM deployments"
        " WHERE tenant_id = $1 AND device_id = $2 AND id = ANY($3::uuid[])"
        " ORDER BY id FOR UPDATE",
        tenant_id,
        device_id,
        sorted(set(ids)),
    )
    return {r["id"]: DEPLOYMENTS.from_record(r) for r in rows}


async def insert_events(
    conn: Connection,
    tenant_id: uuid.UUID,
    events: Sequence[tuple[uuid.UUID, str, str, Sequence[str], datetime]],
) -> None:
    """(deployment, type, message, add_info, when); a report seen before is skipped."""
    await conn.executemany(
        "INSERT INTO deployment_events"
        " (tenant_id, deployment_id, type, message, add_info, reported_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT ON CONSTRAINT deployment_events_once DO NOTHING",
        [(tenant_id, d, t, m, list(a), at) for d, t, m, a, at in events],
    )


# --- messages waiting for devices ------------------------------------------------------

_MESSAGE_COLUMNS = "sequence, deployment_id, interface, path, data, image_id, inserted_at"


def _message(row: asyncpg.Record) -> DeviceMessage:
    data = row["data"]
    return DeviceMessage(
        sequence=row["sequence"],
        deployment_id=row["deployment_id"],
        interface=row["interface"],
        path=row["path"],
        data=json.loads(data) if isinstance(data, str) else data,
        image_id=row["image_id"],
        inserted_at=row["inserted_at"],
    )


async def enqueue(
    conn: Connection,
    tenant_id: uuid.UUID,
    device_id: uuid.UUID,
    messages: Sequence[tuple[uuid.UUID, str, str, Any, uuid.UUID | None]],
) -> None:
    """(deployment, interface, path, data, image id) for the device, in this order."""
    if messages:
        await conn.executemany(
            "INSERT INTO device_messages"
            " (tenant_id, device_id, deployment_id, interface, path, data, image_id)"
            " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)",
            [
                (tenant_id, device_id, dep, interface, path, json.dumps(data), image_id)
                for dep, interface, path, data, image_id in messages
            ],
        )


async def next_messages(
    conn: Connection, tenant_id: uuid.UUID, device_id: uuid.UUID, after: int, limit: int
) -> list[DeviceMessage]:
    """Forget the messages up to `after` (the device has handled them), and read
    the next `limit`, oldest first."""
    await conn.execute(
        "DELETE FROM device_messages WHERE tenant_id = $1 AND device_id = $2 AND sequence <= $3",
        tenant_id,
        device_id,
        after,
    )
    rows = await conn.fetch(
        f"SELECT {_MESSAGE_COLUMNS} FROM device_messages"
        " WHERE tenant_id = $1 AND device_id = $2 AND sequence > $3"
        " ORDER BY sequence LIMIT $4",
        tenant_id,
        device_id,
        after,
        limit,
    )
    return [_message(r) for r in rows]


async def mark_sent(
    conn: Connection, tenant_id: uuid.UUID, deployment_ids: Sequence[uuid.UUID]
) -> None:
    """Pending deployments whose CreateDeploymentRequest a device read are sent."""
    await conn.execute(
        "UPDATE deployments SET state = 'sent'"
        " WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND state = 'pending'",
        tenant_id,
        list(deployment_ids),
    )


async def upgrades_waiting(
    conn: Connection, tenant_id: uuid.UUID, device_id: uuid.UUID
) -> list[Deployment]:
    """The device's deployments waiting to replace another (upgradeDeployment), locked."""
    rows = await conn.fetch(
        f"SELECT {DEPLOYMENTS.select} FROM deployments"
        " WHERE tenant_id = $1 AND device_id = $2 AND upgrade_from IS NOT NULL"
        " ORDER BY id FOR UPDATE",
        tenant_id,
        device_id,
    )
    return [DEPLOYMENTS.from_record(r) for r in rows]
