"""What a device payload is made of: a deployment's containers and their sealed credentials.

One statement, and so one round trip, per payload: `read_and_record` reads the
deployment and, for each container of its release in order, what can change
(its credentials, and the sealed values they name), and in the same statement
records one delivery per set of credentials, if the payload can be delivered
at all. The rows it reads are share-locked, so a concurrent delete either came
first (and the payload is refused, with nothing recorded) or waits for the
record. If the payload then fails after all (a sealed value this server
cannot open), `withdraw_deliveries` takes the record back.

Everything else about a release's containers never changes (sql/004's
containers_immutable trigger), so the payload service reads them once per
release (applications/containers_store.py `of_releases`) and keeps what it
builds from them (deployments/payload.py `ReleaseTemplates`).

This module returns sealed values only; deployments/payload_service.py is the
one place that asks the vault to open them.
"""

from __future__ import annotations

import uuid

import asyncpg

from ..db import Connection
from ..vault import Sealed
from .model import ContainerCredentials, DeploymentSource, SealedCredentials


async def read_and_record(
    conn: Connection | asyncpg.Pool,
    tenant_id: uuid.UUID,
    deployment_id: uuid.UUID,
    device_id: uuid.UUID,
    *,
    record: bool = True,
) -> DeploymentSource | None:
    """The deployment, its containers' credentials and their sealed values,
    and (when `record`) one delivery row per set of credentials, in one statement.

    None when the tenant has no such deployment. Sealed credentials come back
    only when the deployment was made for `device_id`. Deliveries are written
    only if the payload can be delivered: the deployment is `device_id`'s and
    every container still has its credentials. The deployment and credential
    rows are share-locked while the statement runs, so a delete that came
    first is seen (the row is skipped, and nothing is recorded) and one that
    comes later waits until the record is committed.
    """
    # LEFT JOINs: a deployment row comes back even if its release had no
    # containers, so "absent" and "empty" stay distinguishable; a container
    # whose credentials are gone comes back without them. `recorded` holds
    # the new delivery ids (NULL when nothing was written), so a payload that
    # then fails can take its record back (withdraw_deliveries).
    rows = await conn.fetch(
        """
        WITH deployment AS (
            SELECT device_id, release_id FROM deployments
            WHERE tenant_id = $1 AND id = $2
            FOR SHARE
        ), used AS (
            SELECT c.id, c.position, c.image_reference,
                   c.image_credentials_id, c.credentials_deleted_at
            FROM containers c JOIN deployment d ON c.release_id = d.release_id
            WHERE c.tenant_id = $1
        ), present AS (
            SELECT id, username, sealed_key_id, sealed_password FROM image_credentials
            WHERE tenant_id = $1
              AND id IN (SELECT image_credentials_id FROM used)
              AND EXISTS (SELECT FROM deployment WHERE device_id = $3)
            ORDER BY id
            FOR SHARE
        ), recorded AS (
            INSERT INTO credential_deliveries
                (tenant_id, image_credentials_id, device_id, deployment_id)
            SELECT $1, id, $3, $2 FROM present
            WHERE $4 AND NOT EXISTS (
                SELECT FROM used
                WHERE credentials_deleted_at IS NOT NULL
                   OR (image_credentials_id IS NOT NULL
                       AND image_credentials_id NOT IN (SELECT id FROM present))
            )
            RETURNING id
        )
        SELECT d.device_id AS deployment_device_id, d.release_id,
               u.id, u.position, u.image_reference,
               u.image_credentials_id, u.credentials_deleted_at,
               p.username AS credentials_username, p.sealed_key_id, p.sealed_password,
               (SELECT array_agg(id) FROM recorded) AS recorded
        FROM deployment d
        LEFT JOIN used u ON true
        LEFT JOIN present p ON p.id = u.image_credentials_id
        ORDER BY u.position
        """,
        tenant_id,
        deployment_id,
        device_id,
        record,
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
        delivery_ids=rows[0]["recorded"] or [],
    )


async def withdraw_deliveries(
    conn: Connection | asyncpg.Pool, tenant_id: uuid.UUID, ids: list[uuid.UUID]
) -> None:
    """Take back the record of a payload that could not be handed over after all."""
    await conn.execute(
        "DELETE FROM credential_deliveries WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        tenant_id,
        ids,
    )
