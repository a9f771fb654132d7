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
