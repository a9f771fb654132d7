"""What a device payload is made of: a deployment's containers and their sealed credentials.

Two statements, and no transaction around them, so a payload costs two round
trips: `read_deployment` (the deployment, and for each container of its
release in order, what can change: its credentials, and the sealed values
they name) and then, once every password has been opened, `record_deliveries`
(one delivery row per set of credentials, written only if the deployment and
every one of those credentials still exist, under a share lock, so a
concurrent delete either waits for the record or makes the record, and with
it the payload, fail).

Everything else about a release's containers never changes (sql/004's
containers_immutable trigger), so payload.py reads them once per release
(store/containers.py `of_releases`) and keeps what it builds from them.

This module returns sealed values only; payload.py is the one place that asks
the vault to open them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ..vault import Sealed


@dataclass(frozen=True)
class SealedCredentials:
    id: uuid.UUID
    username: str
    sealed: Sealed

    def __repr__(self) -> str:
        return f"SealedCredentials(id={self.id!r}, username={self.username!r}, sealed=<sealed>)"


@dataclass(frozen=True, slots=True)
class ContainerCredentials:
    """A deployed container's credentials, as they are now: what a payload must re-read."""

    id: uuid.UUID
    position: int
    image_reference: str
    image_credentials_id: uuid.UUID | None
    credentials_deleted_at: datetime | None


@dataclass(frozen=True)
class DeploymentSource:
    deployment_id: uuid.UUID
    device_id: uuid.UUID  # the device it was made for
    release_id: uuid.UUID
    containers: list[ContainerCredentials]  # in release order
    # The credentials those containers name that still exist, by id; read only
    # when the deployment is the asking device's own.
    sealed: dict[uuid.UUID, SealedCredentials]


async def read_deployment(
    conn: asyncpg.Connection | asyncpg.Pool,
    tenant_id: uuid.UUID,
    deployment_id: uuid.UUID,
    device_id: uuid.UUID,
) -> DeploymentSource | None:
    """The deployment, its containers' credentials and their sealed values.

    None when the tenant has no such deployment. Sealed credentials come back
    only when the deployment was made for `device_id`.
    """
    # LEFT JOINs: a deployment row comes back even if its release had no
    # containers, so "absent" and "empty" stay distinguishable in one query;
    # a container whose credentials are gone comes back without them.
    rows = await conn.fetch(
        """
        SELECT d.device_id AS deployment_device_id, d.release_id,
               c.id, c.position, c.image_reference,
               c.image_credentials_id, c.credentials_deleted_at,
               ic.username AS credentials_username, ic.sealed_key_id, ic.sealed_password
        FROM deployments d
        LEFT JOIN containers c ON c.tenant_id = d.tenant_id AND c.release_id = d.release_id
        LEFT JOIN image_credentials ic
               ON d.device_id = $3 AND ic.tenant_id = c.tenant_id AND ic.id = c.image_credentials_id
        WHERE d.tenant_id = $1 AND d.id = $2
        ORDER BY c.position
        """,
        tenant_id,
        deployment_id,
        device_id,
    )
    if not rows:
        return None
    sealed = {
        r["image_credentials_id"]: SealedCredentials(
            r["image_credentials_id"],
            r["credentials_username"],
            Sealed(r["sealed_key_id"], bytes(r["sealed_password"])),
        )
        for r in rows
        if r["sealed_password"] is not None
    }
    containers = [
        ContainerCredentials(
            r["id"],
            r["position"],
            r["image_reference"],
            r["image_credentials_id"],
            r["credentials_deleted_at"],
        )
        for r in rows
        if r["id"] is not None
    ]
    return DeploymentSource(
        deployment_id=deployment_id,
        device_id=rows[0]["deployment_device_id"],
        release_id=rows[0]["release_id"],
        containers=containers,
        sealed=sealed,
    )


async def record_deliveries(
    conn: asyncpg.Connection | asyncpg.Pool,
    tenant_id: uuid.UUID,
    ids: Iterable[uuid.UUID],
    *,
    device_id: uuid.UUID,
    deployment_id: uuid.UUID,
) -> bool:
    """One delivery row per set of credentials; all of them or, returning False, none.

    Nothing is written unless the deployment (for this device) and every one
    of `ids` still exist. Their rows are share-locked while the statement
    runs: a delete that came first makes this return False; one that comes
    later waits until the record is committed.
    """
    wanted = sorted(set(ids))
    recorded = await conn.fetchval(
        """
        WITH deployment AS (
            SELECT id FROM deployments
            WHERE tenant_id = $1 AND id = $4 AND device_id = $3
            FOR SHARE
        ), present AS (
            SELECT id FROM image_credentials
            WHERE tenant_id = $1 AND id = ANY($2::uuid[])
            ORDER BY id
            FOR SHARE
        ), recorded AS (
            INSERT INTO credential_deliveries
                (tenant_id, image_credentials_id, device_id, deployment_id)
            SELECT $1, id, $3, $4 FROM present
            WHERE EXISTS (SELECT FROM deployment)
              AND (SELECT count(*) FROM present) = cardinality($2::uuid[])
            RETURNING 1
        )
        SELECT count(*) FROM recorded
        """,
        tenant_id,
        wanted,
        device_id,
        deployment_id,
    )
    return recorded == len(wanted)
