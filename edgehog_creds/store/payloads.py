"""What a device payload is made of: a deployment's containers and their sealed credentials.

Two queries, both meant to run in the one transaction that payload.py opens:
`read_deployment` (the deployment and its release's containers, in order) and
`read_sealed_and_record_deliveries` (the sealed passwords those containers
name, locked until the transaction ends, and the record of their delivery, in
one statement so a concurrent delete cannot slip between the two).

This module returns sealed values only; payload.py is the one place that asks
the vault to open them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from ..vault import Sealed


@dataclass(frozen=True)
class ContainerRow:
    """One container of the deployed release, as stored."""

    id: uuid.UUID
    position: int
    image_id: uuid.UUID
    image_reference: str
    image_credentials_id: uuid.UUID | None
    credentials_deleted_at: datetime | None
    hostname: str
    restart_policy: str
    env: list[dict[str, Any]]  # [{"key": .., "value": ..}]
    port_bindings: list[str]
    binds: list[str]
    network_mode: str
    extra_hosts: list[str]
    cap_add: list[str]
    cap_drop: list[str]
    privileged: bool
    read_only_rootfs: bool
    cpu_period: int | None
    cpu_quota: int | None
    cpu_realtime_period: int | None
    cpu_realtime_runtime: int | None
    memory: int | None
    memory_reservation: int | None
    memory_swap: int | None
    memory_swappiness: int | None
    volume_driver: str
    storage_opt: list[str]
    tmpfs: list[str]


@dataclass(frozen=True)
class DeploymentSource:
    deployment_id: uuid.UUID
    device_id: uuid.UUID  # the device it was made for
    containers: list[ContainerRow]  # in release order


@dataclass(frozen=True)
class SealedCredentials:
    id: uuid.UUID
    username: str
    sealed: Sealed

    def __repr__(self) -> str:
        return f"SealedCredentials(id={self.id!r}, username={self.username!r}, sealed=<sealed>)"


_CONTAINER_FIELDS = [f for f in ContainerRow.__dataclass_fields__]


def _container(row: asyncpg.Record) -> ContainerRow:
    values = {name: row[name] for name in _CONTAINER_FIELDS}
    env = values["env"]
    # asyncpg hands jsonb over as text unless a codec is set on the pool.
    values["env"] = json.loads(env) if isinstance(env, str) else env
    return ContainerRow(**values)


async def read_deployment(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, deployment_id: uuid.UUID
) -> DeploymentSource | None:
    """The deployment and every container of its release; None when absent."""
    # LEFT JOIN: a deployment row comes back even if its release had no
    # containers, so "absent" and "empty" stay distinguishable in one query.
    rows = await conn.fetch(
        """
        SELECT d.id AS deployment_id, d.device_id AS deployment_device_id,
               c.id, c.position, c.image_id, c.image_reference,
               c.image_credentials_id, c.credentials_deleted_at,
               c.hostname, c.restart_policy, c.env, c.port_bindings, c.binds,
               c.network_mode, c.extra_hosts, c.cap_add, c.cap_drop,
               c.privileged, c.read_only_rootfs,
               c.cpu_period, c.cpu_quota, c.cpu_realtime_period, c.cpu_realtime_runtime,
               c.memory, c.memory_reservation, c.memory_swap, c.memory_swappiness,
               c.volume_driver, c.storage_opt, c.tmpfs
        FROM deployments d
        LEFT JOIN containers c ON c.tenant_id = d.tenant_id AND c.release_id = d.release_id
        WHERE d.tenant_id = $1 AND d.id = $2
        ORDER BY c.position
        """,
        tenant_id,
        deployment_id,
    )
    if not rows:
        return None
    return DeploymentSource(
        deployment_id=rows[0]["deployment_id"],
        device_id=rows[0]["deployment_device_id"],
        containers=[_container(r) for r in rows if r["id"] is not None],
    )


async def read_sealed_and_record_deliveries(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    ids: Iterable[uuid.UUID],
    *,
    device_id: uuid.UUID,
    deployment_id: uuid.UUID,
) -> dict[uuid.UUID, SealedCredentials]:
    """Sealed credentials by id, share-locked, with one delivery row for each.

    One statement does both, so nothing can come between reading a password
    and recording where it goes; the share lock holds a concurrent delete back
    until the caller's transaction ends (and a failure there undoes the
    record). Ids that are absent (deleted after the containers were read) are
    missing from the result and get no delivery; the caller decides what that
    means.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await conn.fetch(
        """
        WITH sealed AS (
            SELECT id, username, sealed_key_id, sealed_password
            FROM image_credentials
            WHERE tenant_id = $1 AND id = ANY($2::uuid[])
            ORDER BY id
            FOR SHARE
        ), delivered AS (
            INSERT INTO credential_deliveries
                (tenant_id, image_credentials_id, device_id, deployment_id)
            SELECT $1, id, $3, $4 FROM sealed
        )
        SELECT id, username, sealed_key_id, sealed_password FROM sealed
        """,
        tenant_id,
        wanted,
        device_id,
        deployment_id,
    )
    return {
        r["id"]: SealedCredentials(
            r["id"], r["username"], Sealed(r["sealed_key_id"], bytes(r["sealed_password"]))
        )
        for r in rows
    }
