"""SQL for networks. No UPDATE exists: the table's trigger refuses one."""

from __future__ import annotations

import json
import uuid

import asyncpg

from ..db import Connection, returned
from ..domain.errors import Conflict
from ..store.tables import Table
from .model import Network


def _from_record(row: asyncpg.Record) -> Network:
    return Network(
        id=row["id"],
        label=row["label"],
        driver=row["driver"],
        internal=row["internal"],
        enable_ipv6=row["enable_ipv6"],
        options=json.loads(row["options"]),  # asyncpg hands jsonb over as text
        inserted_at=row["inserted_at"],
    )


# `label` is not unique for sorting: it may be NULL, and NULLs repeat.
TABLE = Table("networks", Network, from_record=_from_record)


async def insert(
    conn: Connection,
    tenant_id: uuid.UUID,
    network_id: uuid.UUID,
    *,
    label: str | None,
    driver: str,
    internal: bool,
    enable_ipv6: bool,
    options: dict[str, str],
) -> Network:
    """Raises Conflict on `label` when the tenant already has that label."""
    try:
        row = await conn.fetchrow(
            f"""
            INSERT INTO networks (tenant_id, id, label, driver, internal, enable_ipv6, options)
            VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
            RETURNING {TABLE.select}
            """,
            tenant_id,
            network_id,
            label,
            driver,
            internal,
            enable_ipv6,
            json.dumps(options),
        )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("label") from exc
    return TABLE.from_record(returned(row))


async def lock_for_delete(conn: Connection, tenant_id: uuid.UUID, network_id: uuid.UUID) -> bool:
    """Lock the row (FOR UPDATE); False when there is none.

    FOR UPDATE conflicts with the KEY SHARE lock that the foreign-key check
    of a new container_networks row takes: a container being created on
    this network commits first (and is then counted by `users`), or fails
    on its foreign key once the delete commits.
    """
    locked = await conn.fetchval(
        "SELECT true FROM networks WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant_id,
        network_id,
    )
    return bool(locked)


async def users(conn: Connection, tenant_id: uuid.UUID, network_id: uuid.UUID) -> int:
    """How many containers join the network."""
    count = await conn.fetchval(
        "SELECT count(*) FROM container_networks WHERE tenant_id = $1 AND network_id = $2",
        tenant_id,
        network_id,
    )
    return int(count)
