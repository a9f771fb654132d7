"""What a device payload is made of: a deployment's images and their sealed credentials.

One statement, and so one round trip, per payload: `read_and_record` reads the
deployment and, for each image its release's containers run, what can change
(its credentials, and the sealed values they name), and in the same statement
records one delivery per set of credentials, if the payload can be delivered
at all. The rows it reads are share-locked, so a concurrent delete either came
first (and the payload is refused, with nothing recorded) or waits for the
record. If the payload then fails after all (a sealed value this server
cannot open), `withdraw_deliveries` takes the record back.

Everything else about a release never changes (sql/009's triggers), so the
payload service reads it once per release (`read_release`) and keeps what
it builds from it (deployments/payload.py `ReleaseTemplates`).

This module returns sealed values only; deployments/payload_service.py is the
one place that asks the vault to open them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from ..applications import store as applications_store
from ..applications.model import dependency_order
from ..containers import store as containers_store
from ..db import Connection
from ..vault import Sealed
from .model import DeploymentSource, ImageCredentials, SealedCredentials
from .payload import (
    ContainerSpecOfRelease,
    DeviceRequestSpec,
    MappingSpec,
    NetworkSpec,
    VolumeSpec,
)


def _options(stored: Any) -> dict[str, str]:
    value = json.loads(stored) if isinstance(stored, str) else stored
    return {str(k): str(v) for k, v in (value or {}).items()}


async def read_release(
    c: Connection, tenant_id: uuid.UUID, release_id: uuid.UUID
) -> tuple[list[ContainerSpecOfRelease], list[uuid.UUID]]:
    """A release's containers with everything they point to, and the order they
    start in (every dependency first). Read once per release: none of it changes."""
    containers = (await applications_store.containers_of_releases(c, tenant_id, [release_id]))[
        release_id
    ]
    dependencies = (await applications_store.dependencies_of_releases(c, tenant_id, [release_id]))[
        release_id
    ]
    ids = [x.id for x in containers]
    children = await containers_store.children_of(c, tenant_id, ids)
    images = await c.fetch(
        "SELECT id, reference FROM images WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        tenant_id,
        sorted({x.image_id for x in containers}),
    )
    volumes = await c.fetch(
        "SELECT id, driver, options FROM volumes WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        tenant_id,
        sorted({v.volume_id for vs in children.volumes.values() for v in vs}),
    )
    networks = await c.fetch(
        "SELECT id, driver, internal, enable_ipv6, options FROM networks"
        " WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        tenant_id,
        sorted({n.network_id for ns in children.networks.values() for n in ns}),
    )
    references = {r["id"]: r["reference"] for r in images}
    volume_specs = {
        r["id"]: VolumeSpec(r["id"], r["driver"], _options(r["options"])) for r in volumes
    }
    network_specs = {
        r["id"]: NetworkSpec(
            r["id"], r["driver"], r["internal"], r["enable_ipv6"], _options(r["options"])
        )
        for r in networks
    }
    specs = [
        ContainerSpecOfRelease(
            container=x,
            image_id=x.image_id,
            image_reference=references[x.image_id],
            volumes=[(volume_specs[v.volume_id], v.target) for v in children.volumes[x.id]],
            networks=[network_specs[n.network_id] for n in children.networks[x.id]],
            device_mappings=[
                MappingSpec(m.id, m.path_on_host, m.path_in_container, m.cgroup_permissions)
                for m in children.device_mappings[x.id]
            ],
            device_requests=[
                DeviceRequestSpec(
                    r.id, r.driver, r.count, r.device_ids, r.capabilities, dict(r.options)
                )
                for r in children.device_requests[x.id]
            ],
        )
        for x in containers
    ]
    return specs, dependency_order(ids, dependencies)


async def read_and_record(
    conn: Connection | asyncpg.Pool,
    tenant_id: uuid.UUID,
    deployment_id: uuid.UUID,
    device_id: uuid.UUID,
    *,
    record: bool = True,
    image_ids: list[uuid.UUID] | None = None,
) -> DeploymentSource | None:
    """The deployment, the credentials of its images and their sealed values,
    and (when `record`) one delivery row per set of credentials, in one statement.

    `image_ids` narrows it to some of the release's images (those a device
    message carries); None: all of them. None back when the tenant has no
    such deployment. Sealed credentials come back only when the deployment
    was made for `device_id`. Deliveries are written only if the payload can
    be delivered: the deployment is `device_id`'s and every image still has
    its credentials. The deployment and credential rows are share-locked
    while the statement runs, so a delete that came first is seen (the row is
    skipped, and nothing is recorded) and one that comes later waits until
    the record is committed.
    """
    # LEFT JOINs: a deployment row comes back even if its release had no
    # containers, so "absent" and "empty" stay distinguishable; an image
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
            SELECT DISTINCT i.id, i.reference, i.image_credentials_id, i.credentials_deleted_at
            FROM release_containers rc
            JOIN deployment d ON rc.release_id = d.release_id
            JOIN containers c ON c.tenant_id = rc.tenant_id AND c.id = rc.container_id
            JOIN images i ON i.tenant_id = c.tenant_id AND i.id = c.image_id
            WHERE rc.tenant_id = $1 AND ($5::uuid[] IS NULL OR i.id = ANY($5::uuid[]))
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
               u.id, u.reference, u.image_credentials_id, u.credentials_deleted_at,
               p.username AS credentials_username, p.sealed_key_id, p.sealed_password,
               (SELECT array_agg(id) FROM recorded) AS recorded
        FROM deployment d
        LEFT JOIN used u ON true
        LEFT JOIN present p ON p.id = u.image_credentials_id
        ORDER BY u.id
        """,
        tenant_id,
        deployment_id,
        device_id,
        record,
        image_ids,
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
    images = [
        ImageCredentials(
            r["id"], r["reference"], r["image_credentials_id"], r["credentials_deleted_at"]
        )
        for r in rows
        if r["id"] is not None
    ]
    return DeploymentSource(
        deployment_id=deployment_id,
        device_id=rows[0]["deployment_device_id"],
        release_id=rows[0]["release_id"],
        images=images,
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
